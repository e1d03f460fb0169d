import type { Clock } from "../core/index.js";
import type { ServiceGraph } from "../rca/index.js";
import { DEFAULT_RED_WINDOW_MS, RedWindow, type RedSnapshot } from "./red-window.js";
import { SpanKind, StatusCode, type DecodedSpan } from "./otlp-span.js";

/** How long half of a call (client or server span) waits for its other half before it is settled alone. */
export const DEFAULT_EDGE_WAIT_MS = 10_000;
/** Unpaired halves held at once; beyond it the oldest are settled early (about 150 bytes each). */
export const DEFAULT_MAX_PENDING_EDGES = 100_000;
/** Distinct services and edges tracked; spans of further ones are counted as dropped. */
export const DEFAULT_MAX_SERVICES = 2_000;
export const DEFAULT_MAX_EDGES = 20_000;

/** Attributes that name the callee of a client span whose callee does not report spans itself, in order. */
export const PEER_ATTRIBUTES = [
  "peer.service",
  "db.system.name",
  "db.system",
  "messaging.system",
  "server.address",
  "net.peer.name",
] as const;

export interface ServiceGraphOptions {
  clock: Clock;
  windowMs?: number;
  edgeWaitMs?: number;
  maxPendingEdges?: number;
  maxServices?: number;
  maxEdges?: number;
}

interface Half {
  client: boolean;
  service: string;
  durationMs: number;
  error: boolean;
  peer: string | undefined;
  at: number;
}

export interface ServiceView extends RedSnapshot {
  name: string;
}

export interface EdgeView extends RedSnapshot {
  caller: string;
  callee: string;
  /** `span` when both ends reported spans, `peer` when learned from a client span's attributes only. */
  via: "span" | "peer";
}

export interface ServiceGraphStats {
  pendingEdges: number;
  pairedEdges: number;
  peerEdges: number;
  /** Server halves whose caller never reported (entry points, or uninstrumented callers). */
  unpairedServer: number;
  /** Client halves with no server half and no attribute naming the callee. */
  unpairedClient: number;
  droppedSpans: number;
}

function peerOf(s: DecodedSpan): string | undefined {
  for (const a of PEER_ATTRIBUTES) {
    const v = s.attributes[a];
    if (typeof v === "string" && v !== "") return v;
  }
  return undefined;
}

/**
 * Learns who calls whom from spans: a CLIENT (or PRODUCER) span and the SERVER (or CONSUMER) span whose
 * parent it is form one call edge between their services, whichever arrives first; a client span whose
 * callee never reports becomes an edge to its `peer.service` (or similar attribute). Keeps RED metrics per
 * service (its server/consumer spans and its root spans) and per edge (the client's view of latency).
 */
export class ServiceGraphBuilder {
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly edgeWaitMs: number;
  private readonly maxPending: number;
  private readonly maxServices: number;
  private readonly maxEdges: number;
  private readonly pending = new Map<string, Half>();
  private readonly services = new Map<string, RedWindow>();
  private readonly edges = new Map<
    string,
    { caller: string; callee: string; via: "span" | "peer"; red: RedWindow }
  >();
  private readonly stats: ServiceGraphStats = {
    pendingEdges: 0,
    pairedEdges: 0,
    peerEdges: 0,
    unpairedServer: 0,
    unpairedClient: 0,
    droppedSpans: 0,
  };

  constructor(opts: ServiceGraphOptions) {
    this.clock = opts.clock;
    this.windowMs = opts.windowMs ?? DEFAULT_RED_WINDOW_MS;
    this.edgeWaitMs = opts.edgeWaitMs ?? DEFAULT_EDGE_WAIT_MS;
    this.maxPending = opts.maxPendingEdges ?? DEFAULT_MAX_PENDING_EDGES;
    this.maxServices = opts.maxServices ?? DEFAULT_MAX_SERVICES;
    this.maxEdges = opts.maxEdges ?? DEFAULT_MAX_EDGES;
  }

  /** Adds spans; settles halves that waited too long. */
  add(spans: readonly DecodedSpan[]): void {
    const now = this.clock.now();
    for (const s of spans) this.addOne(s, now);
    this.expire(now);
  }

  private service(name: string): RedWindow | undefined {
    let red = this.services.get(name);
    if (!red) {
      if (this.services.size >= this.maxServices) return undefined;
      red = new RedWindow(this.windowMs);
      this.services.set(name, red);
    }
    return red;
  }

  private addOne(s: DecodedSpan, now: number): void {
    const svc = s.resource.service;
    const red = this.service(svc);
    if (!red) {
      this.stats.droppedSpans++;
      return;
    }
    const error = s.statusCode === StatusCode.Error;
    const kind = s.kind;
    const serverSide = kind === SpanKind.Server || kind === SpanKind.Consumer;
    if (serverSide || s.parentSpanId === "") red.record(now, s.durationMs, error);
    if (kind === SpanKind.Client || kind === SpanKind.Producer) {
      const key = s.traceId + s.spanId;
      const other = this.pending.get(key);
      if (other && !other.client) {
        this.pending.delete(key);
        this.recordEdge(svc, other.service, "span", s.durationMs, error || other.error, now);
        this.stats.pairedEdges++;
      } else
        this.hold(key, {
          client: true,
          service: svc,
          durationMs: s.durationMs,
          error,
          peer: peerOf(s),
          at: now,
        });
    } else if (serverSide && s.parentSpanId !== "") {
      const key = s.traceId + s.parentSpanId;
      const other = this.pending.get(key);
      if (other && other.client) {
        this.pending.delete(key);
        this.recordEdge(other.service, svc, "span", other.durationMs, error || other.error, now);
        this.stats.pairedEdges++;
      } else
        this.hold(key, {
          client: false,
          service: svc,
          durationMs: s.durationMs,
          error,
          peer: undefined,
          at: now,
        });
    }
  }

  private hold(key: string, h: Half): void {
    this.pending.set(key, h);
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value as string;
      this.settle(this.pending.get(oldest) as Half, h.at);
      this.pending.delete(oldest);
    }
  }

  private settle(h: Half, now: number): void {
    if (h.client && h.peer !== undefined) {
      this.recordEdge(h.service, h.peer, "peer", h.durationMs, h.error, now);
      this.stats.peerEdges++;
    } else if (h.client) this.stats.unpairedClient++;
    else this.stats.unpairedServer++;
  }

  private expire(now: number): void {
    // Insertion order is arrival order, and arrival times never decrease: stop at the first young one.
    for (const [key, h] of this.pending) {
      if (h.at + this.edgeWaitMs > now) break;
      this.pending.delete(key);
      this.settle(h, now);
    }
  }

  private recordEdge(
    caller: string,
    callee: string,
    via: "span" | "peer",
    ms: number,
    error: boolean,
    now: number,
  ): void {
    const key = `${caller}\u0000${callee}`;
    let e = this.edges.get(key);
    if (!e) {
      if (this.edges.size >= this.maxEdges) {
        this.stats.droppedSpans++;
        return;
      }
      e = { caller, callee, via, red: new RedWindow(this.windowMs) };
      this.edges.set(key, e);
    }
    if (via === "span") e.via = "span";
    e.red.record(now, ms, error);
  }

  /** Settles halves that waited past the edge wait even when no spans arrive (call from a timer). */
  tick(): void {
    this.expire(this.clock.now());
  }

  serviceViews(): ServiceView[] {
    const now = this.clock.now();
    return [...this.services]
      .map(([name, red]) => ({ name, ...red.snapshot(now) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  edgeViews(): EdgeView[] {
    const now = this.clock.now();
    return [...this.edges.values()]
      .map((e) => ({ caller: e.caller, callee: e.callee, via: e.via, ...e.red.snapshot(now) }))
      .sort((a, b) => a.caller.localeCompare(b.caller) || a.callee.localeCompare(b.callee));
  }

  /** The graph in the shape root-cause ranking takes; rate is calls per second over the window. */
  rcaGraph(): ServiceGraph {
    return { edges: this.edgeViews().map((e) => ({ caller: e.caller, callee: e.callee, rate: e.rate })) };
  }

  getStats(): ServiceGraphStats {
    return { ...this.stats, pendingEdges: this.pending.size };
  }
}
