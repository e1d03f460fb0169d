export { alertmanagerWebhookSchema, alertsFromAlertmanager } from "./alertmanager.js";
export type { AlertmanagerWebhook } from "./alertmanager.js";
export {
  eventSchema,
  alertFromTrigger,
  eventFingerprint,
  EVENT_SEVERITIES,
  MAX_SUMMARY_CHARS,
  MAX_DEDUP_KEY_CHARS,
} from "./events-api.js";
export type { IncomingEvent } from "./events-api.js";
export { SpanKind, StatusCode, UNKNOWN_SERVICE, MAX_REJECTION_REASONS } from "./otlp-span.js";
export type { AttrValue, Attributes, DecodedSpan, DecodedExport, SpanResource } from "./otlp-span.js";
export {
  decodeTraceRequest,
  encodeTraceResponse,
  encodeRpcStatus,
  ProtoDecodeError,
  ShortStringCache,
  DEFAULT_STRING_CACHE_SLOTS,
} from "./otlp-proto.js";
export { decodeTraceRequestJson, OtlpJsonError } from "./otlp-json.js";
export {
  OtlpReceiver,
  PROTOBUF_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  DEFAULT_OTLP_MAX_QUEUE_SPANS,
  DEFAULT_OTLP_MAX_CONCURRENT_REQUESTS,
  DEFAULT_OTLP_MAX_DECOMPRESSED_BYTES,
  DEFAULT_OTLP_RETRY_AFTER_SECONDS,
  DEFAULT_OTLP_DRAIN_BATCH_SPANS,
} from "./otlp-receiver.js";
export type { OtlpReceiverOptions, OtlpResponse } from "./otlp-receiver.js";
export {
  RedWindow,
  histogramQuantile,
  LATENCY_BUCKETS_MS,
  DEFAULT_RED_WINDOW_MS,
  RED_WINDOW_SLOTS,
} from "./red-window.js";
export type { RedSnapshot } from "./red-window.js";
export {
  ServiceGraphBuilder,
  PEER_ATTRIBUTES,
  DEFAULT_EDGE_WAIT_MS,
  DEFAULT_MAX_PENDING_EDGES,
  DEFAULT_MAX_SERVICES,
  DEFAULT_MAX_EDGES,
} from "./service-graph.js";
export type { ServiceGraphOptions, ServiceView, EdgeView, ServiceGraphStats } from "./service-graph.js";
export * from "./telemetry-config.js";
export { createTelemetry, GRAPH_TICK_MS, SERIES_SWEEP_MS } from "./telemetry.js";
export type { Telemetry, TelemetryDeps } from "./telemetry.js";
export {
  scanExposition,
  scanSamples,
  parseExposition,
  parseValue,
  formatOf,
  ExpositionError,
} from "./prom-text.js";
export type {
  ExpositionFormat,
  MetricType,
  SampleVisitor,
  SampleCursor,
  CursorVisitor,
  ParsedSample,
} from "./prom-text.js";
export { Series, SeriesStore, SERIES_OVERHEAD_BYTES, INITIAL_RING_SAMPLES } from "./series-store.js";
export type { SeriesStoreOptions } from "./series-store.js";
export { LinearTrendForecaster, predictCrossing, CROSSING_SEARCH_STEPS } from "./forecast.js";
export type { Forecaster } from "./forecast.js";
export {
  SeriesAnalyzer,
  alertLabelsOf,
  ANOMALY_ALERTNAME,
  PREDICTED_ALERTNAME,
  ANOMALY_SOURCE,
  PREDICTION_SOURCE,
} from "./series-analyzer.js";
export type { SeriesDetector, SeriesDetectorFactory, SeriesAnalyzerOptions } from "./series-analyzer.js";
export { Scraper, resolveTargets, relabel, SCRAPE_ACCEPT } from "./scraper.js";
export type { ScrapeTarget, ScraperOptions, TargetStatus } from "./scraper.js";
export { PromQLClient, DEFAULT_PROMQL_CLIENT_TIMEOUT_MS } from "./promql-client.js";
export type { QueryResult, QuerySeries, PromQLClientOptions } from "./promql-client.js";
export { PromQLSource } from "./promql-source.js";
export type { PromQLQuery, PromQLSourceOptions, QueryStatus } from "./promql-source.js";
export { recordRedSeries, RED_SERIES, RED_SERIES_INTERVAL_MS } from "./red-series.js";
