import { SEED_PRODUCTS } from "./store-service.js";

/** Requests per second when nobody says otherwise: enough to fill every panel, little enough for a laptop. */
export const DEFAULT_LOAD_RATE_PER_S = 20;
/** Simulated shoppers; each has a cart of their own. */
export const DEFAULT_LOAD_USERS = 50;
/** Requests in flight beyond this are not sent (counted as `skipped`): a sick shop must not snowball the load. */
export const DEFAULT_MAX_IN_FLIGHT = 64;
export const DEFAULT_LOAD_TIMEOUT_MS = 5_000;
/** Latency percentiles are computed over this many most recent requests. */
export const LATENCY_WINDOW_SAMPLES = 2_048;

export type LoadAction = "browse" | "product" | "add_to_cart" | "view_cart" | "checkout";

/** The default mix: mostly browsing, some carts, a few checkouts, like a real shop's funnel. */
export const DEFAULT_LOAD_MIX: Readonly<Record<LoadAction, number>> = {
  browse: 0.35,
  product: 0.25,
  add_to_cart: 0.2,
  view_cart: 0.1,
  checkout: 0.1,
};

export interface LoadOptions {
  gatewayUrl: string;
  ratePerS?: number;
  users?: number;
  mix?: Partial<Record<LoadAction, number>>;
  maxInFlight?: number;
  timeoutMs?: number;
  random?: () => number;
}

export interface ActionStats {
  sent: number;
  ok: number;
  /** 4xx answers the shop means (declined card, empty cart): not errors of the system. */
  rejected: number;
  /** 5xx answers, timeouts and refused connections. */
  errors: number;
}

export interface LoadStats extends ActionStats {
  skipped: number;
  inFlight: number;
  byAction: Record<LoadAction, ActionStats>;
  byStatus: Record<string, number>;
  /** Milliseconds, over the last LATENCY_WINDOW_SAMPLES requests; null before the first one. */
  latencyMs: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
  startedAt: number | null;
  running: boolean;
}

/** Nearest-rank percentile of an ascending array; q in [0, 1]. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

const emptyAction = (): ActionStats => ({ sent: 0, ok: 0, rejected: 0, errors: 0 });

/**
 * Steady traffic into the gateway: a timer fires `rate` times a second, each tick one shopper does one
 * thing from the mix. Open-loop on purpose (it does not wait for answers), so a slow shop shows up as
 * latency and errors instead of quietly lowering the load.
 */
export class LoadGenerator {
  private readonly rate: number;
  private readonly users: number;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private readonly cumulative: [LoadAction, number][];
  private readonly cartSizes: number[];
  private readonly latencies: number[] = [];
  private latencyNext = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Set<Promise<void>>();
  private stats: Omit<LoadStats, "latencyMs" | "running" | "inFlight">;
  private nextTickAt = 0;

  constructor(private readonly opts: LoadOptions) {
    this.rate = opts.ratePerS ?? DEFAULT_LOAD_RATE_PER_S;
    if (!(this.rate > 0 && this.rate <= 10_000))
      throw new RangeError(`rate must be in (0, 10000] per second, not ${this.rate}`);
    this.users = opts.users ?? DEFAULT_LOAD_USERS;
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
    this.random = opts.random ?? Math.random;
    const mix = { ...DEFAULT_LOAD_MIX, ...opts.mix };
    const total = Object.values(mix).reduce((s, v) => s + v, 0);
    if (!(total > 0)) throw new RangeError("the load mix must have a positive weight");
    let acc = 0;
    this.cumulative = (Object.entries(mix) as [LoadAction, number][]).map(([a, w]) => [
      a,
      (acc += w / total),
    ]);
    this.cartSizes = new Array<number>(this.users).fill(0);
    this.stats = this.fresh();
  }

  private fresh(): Omit<LoadStats, "latencyMs" | "running" | "inFlight"> {
    return {
      ...emptyAction(),
      skipped: 0,
      byAction: {
        browse: emptyAction(),
        product: emptyAction(),
        add_to_cart: emptyAction(),
        view_cart: emptyAction(),
        checkout: emptyAction(),
      },
      byStatus: {},
      startedAt: null,
    };
  }

  start(): void {
    if (this.timer) return;
    this.stats.startedAt ??= Date.now();
    const periodMs = 1000 / this.rate;
    this.nextTickAt = Date.now();
    // setTimeout drifts and a busy loop stalls it; catching up by the clock keeps the average rate.
    const tick = () => {
      const now = Date.now();
      let due = 0;
      while (this.nextTickAt <= now && due < this.rate) {
        due++;
        this.nextTickAt += periodMs;
      }
      if (this.nextTickAt <= now) this.nextTickAt = now + periodMs; // too far behind: drop, do not burst
      for (let k = 0; k < due; k++) this.fire();
      this.timer = setTimeout(tick, Math.max(1, this.nextTickAt - Date.now()));
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops sending and waits for the requests in flight. */
  async stop(): Promise<LoadStats> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all([...this.pending]);
    return this.snapshot();
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  snapshot(): LoadStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      ...structuredClone(this.stats),
      inFlight: this.pending.size,
      running: this.running,
      latencyMs: {
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        max: sorted.length ? sorted[sorted.length - 1]! : null,
      },
    };
  }

  /** Sends one request now, outside the schedule; resolves when it is answered. For tests and smoke checks. */
  async once(action?: LoadAction): Promise<void> {
    const p = this.send(action ?? this.pickAction());
    this.pending.add(p);
    await p.finally(() => this.pending.delete(p));
  }

  private fire(): void {
    if (this.pending.size >= this.maxInFlight) {
      this.stats.skipped++;
      return;
    }
    const p = this.send(this.pickAction());
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private pickAction(): LoadAction {
    const x = this.random();
    for (const [a, c] of this.cumulative) if (x < c) return a;
    return this.cumulative[this.cumulative.length - 1]![0];
  }

  private async send(wanted: LoadAction): Promise<void> {
    const u = Math.floor(this.random() * this.users);
    const user = `shopper-${u}`;
    // A checkout of an empty cart is not what shoppers do: fill it first.
    const action: LoadAction = wanted === "checkout" && this.cartSizes[u] === 0 ? "add_to_cart" : wanted;
    const product = SEED_PRODUCTS[Math.floor(this.random() * SEED_PRODUCTS.length)]!.id;
    const g = this.opts.gatewayUrl;
    const post = (body: unknown): RequestInit => ({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const [url, init]: [string, RequestInit] =
      action === "browse"
        ? [`${g}/api/catalog`, {}]
        : action === "product"
          ? [`${g}/api/catalog/${product}`, {}]
          : action === "view_cart"
            ? [`${g}/api/cart/${user}`, {}]
            : action === "add_to_cart"
              ? [
                  `${g}/api/cart/${user}/items`,
                  post({ productId: product, qty: 1 + Math.floor(this.random() * 2) }),
                ]
              : [`${g}/api/checkout`, post({ user })];
    const a = this.stats.byAction[action];
    a.sent++;
    this.stats.sent++;
    const started = performance.now();
    let status: string;
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer();
      status = String(res.status);
      if (res.ok) {
        if (action === "add_to_cart") this.cartSizes[u]!++;
        if (action === "checkout") this.cartSizes[u] = 0;
      } else if (action === "checkout" && res.status === 409) this.cartSizes[u] = 0;
      const kind = res.ok ? "ok" : res.status < 500 ? "rejected" : "errors";
      a[kind]++;
      this.stats[kind]++;
    } catch (e) {
      status = e instanceof Error && e.name === "TimeoutError" ? "timeout" : "connection_error";
      a.errors++;
      this.stats.errors++;
    }
    this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1;
    this.latencies[this.latencyNext] = performance.now() - started;
    this.latencyNext = (this.latencyNext + 1) % LATENCY_WINDOW_SAMPLES;
  }
}
