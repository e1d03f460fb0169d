import type { Registry } from "prom-client";
import type { Clock, Logger } from "../core/index.js";
import type { Alert } from "../incidents/index.js";
import type { Forecaster } from "./forecast.js";
import { OtlpReceiver } from "./otlp-receiver.js";
import { PromQLClient } from "./promql-client.js";
import { PromQLSource } from "./promql-source.js";
import { RED_SERIES_INTERVAL_MS, recordRedSeries } from "./red-series.js";
import { Scraper, resolveTargets } from "./scraper.js";
import { SeriesAnalyzer, type SeriesDetectorFactory } from "./series-analyzer.js";
import { SeriesStore } from "./series-store.js";
import { ServiceGraphBuilder } from "./service-graph.js";
import type { TelemetryConfig } from "./telemetry-config.js";

/** How often unpaired half-calls are settled and stale series swept when nothing else happens (ms). */
export const GRAPH_TICK_MS = 1_000;
export const SERIES_SWEEP_MS = 30_000;

export interface TelemetryDeps {
  config: TelemetryConfig;
  clock: Clock;
  logger: Logger;
  registry?: Registry;
  /** Where anomaly and predicted-breach alerts go (app.ts: IncidentService.ingest). */
  emit?: (alerts: Alert[]) => Promise<unknown> | void;
  /** The detect module's per-series detector; without it series are stored but not watched. */
  detectorFactory?: SeriesDetectorFactory;
  /** Replaces the linear-trend forecaster of predictive alerts. */
  forecaster?: Forecaster;
}

/** Everything the telemetry section of the config asks for, built and wired; nothing runs until start(). */
export interface Telemetry {
  readonly graph: ServiceGraphBuilder;
  readonly receiver: OtlpReceiver | undefined;
  readonly store: SeriesStore;
  readonly analyzer: SeriesAnalyzer;
  readonly scraper: Scraper;
  readonly promql: PromQLSource | undefined;
  start(): void;
  stop(): Promise<void>;
}

export function createTelemetry(deps: TelemetryDeps): Telemetry {
  const { config, clock, logger, registry } = deps;
  const sg = config.service_graph;
  const graph = new ServiceGraphBuilder({
    clock,
    windowMs: sg.window,
    edgeWaitMs: sg.edge_wait,
    maxPendingEdges: sg.max_pending_edges,
    maxServices: sg.max_services,
    maxEdges: sg.max_edges,
  });
  const receiver = config.otlp.enabled
    ? new OtlpReceiver({
        consume: (spans) => graph.add(spans),
        logger: logger.child({ module: "otlp" }),
        ...(registry ? { registry } : {}),
        maxQueueSpans: config.otlp.max_queue_spans,
        maxConcurrentRequests: config.otlp.max_concurrent_requests,
        maxDecompressedBytes: config.otlp.max_decompressed_bytes,
        retryAfterSeconds: config.otlp.retry_after_seconds,
      })
    : undefined;
  const analyzer = new SeriesAnalyzer({
    clock,
    logger: logger.child({ module: "series-analyzer" }),
    ...(deps.detectorFactory ? { detectorFactory: deps.detectorFactory } : {}),
    ...(deps.forecaster ? { forecaster: deps.forecaster } : {}),
    ...(deps.emit ? { emit: deps.emit } : {}),
    rules: config.predictive.rules,
    horizonMs: config.predictive.horizon,
    minSamples: config.predictive.min_samples,
    resolveAfterSamples: config.anomaly.resolve_after_samples,
  });
  const store = new SeriesStore({
    maxSeries: config.series.max_series,
    samplesPerSeries: config.series.samples_per_series,
    staleAfterMs: config.series.stale_after,
    onEnd: (s) => analyzer.ended(s),
  });
  const scraper = new Scraper({
    targets: resolveTargets(config.scrape),
    store,
    analyzer,
    clock,
    logger: logger.child({ module: "scraper" }),
    maxBodyBytes: config.scrape.max_body_bytes,
    ...(registry ? { registry } : {}),
  });
  const pq = config.prometheus;
  const promql = pq.url
    ? new PromQLSource({
        client: new PromQLClient(pq.url, { timeoutMs: pq.timeout }),
        queries: pq.queries,
        intervalMs: pq.interval,
        store,
        analyzer,
        clock,
        logger: logger.child({ module: "promql" }),
      })
    : undefined;
  const timers: NodeJS.Timeout[] = [];
  return {
    graph,
    receiver,
    store,
    analyzer,
    scraper,
    promql,
    start() {
      if (timers.length) return;
      timers.push(setInterval(() => graph.tick(), GRAPH_TICK_MS));
      timers.push(
        setInterval(() => recordRedSeries(graph, store, analyzer, clock.now()), RED_SERIES_INTERVAL_MS),
      );
      timers.push(
        setInterval(() => {
          store.sweep(clock.now());
          analyzer.flush();
        }, SERIES_SWEEP_MS),
      );
      for (const t of timers) t.unref();
      scraper.start();
      promql?.start();
    },
    async stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      await Promise.all([scraper.stop(), promql?.stop(), receiver?.drained()]);
    },
  };
}
