import type { Registry } from "prom-client";
import type { Clock, Logger } from "../core/index.js";
import type { Alert } from "../incidents/index.js";
import { OtlpReceiver } from "./otlp-receiver.js";
import { ServiceGraphBuilder } from "./service-graph.js";
import type { TelemetryConfig } from "./telemetry-config.js";

/** How often unpaired half-calls are settled when no spans arrive (ms). */
export const GRAPH_TICK_MS = 1_000;

export interface TelemetryDeps {
  config: TelemetryConfig;
  clock: Clock;
  logger: Logger;
  registry?: Registry;
  /** Where anomaly and predicted-breach alerts go (app.ts: IncidentService.ingest). */
  emit?: (alerts: Alert[]) => Promise<unknown> | void;
}

/** Everything the telemetry section of the config asks for, built and wired; nothing runs until start(). */
export interface Telemetry {
  readonly graph: ServiceGraphBuilder;
  readonly receiver: OtlpReceiver | undefined;
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
  let tick: NodeJS.Timeout | undefined;
  return {
    graph,
    receiver,
    start() {
      if (tick) return;
      tick = setInterval(() => graph.tick(), GRAPH_TICK_MS);
      tick.unref();
    },
    async stop() {
      if (tick) clearInterval(tick);
      tick = undefined;
      await receiver?.drained();
    },
  };
}
