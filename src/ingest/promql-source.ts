import type { Clock, Labels, Logger } from "../core/index.js";
import type { PromQLClient } from "./promql-client.js";
import type { SeriesAnalyzer } from "./series-analyzer.js";
import type { SeriesStore } from "./series-store.js";

export interface PromQLQuery {
  name: string;
  query: string;
  service_label: string;
}

export interface PromQLSourceOptions {
  client: PromQLClient;
  queries: readonly PromQLQuery[];
  intervalMs: number;
  store: SeriesStore;
  analyzer?: SeriesAnalyzer;
  clock: Clock;
  logger: Logger;
}

export interface QueryStatus {
  name: string;
  lastRun: number | null;
  lastError: string | null;
  series: number;
}

/**
 * PromQL as a source of series: runs each configured instant query every interval and writes the result
 * vectors into the series store (as `__name__` = the query's name), through the analyzer like scraped ones.
 */
export class PromQLSource {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly statuses: QueryStatus[];

  constructor(private readonly opts: PromQLSourceOptions) {
    this.statuses = opts.queries.map((q) => ({ name: q.name, lastRun: null, lastError: null, series: 0 }));
  }

  status(): QueryStatus[] {
    return this.statuses.map((s) => ({ ...s }));
  }

  /** Runs every query once, now. */
  async runOnce(): Promise<void> {
    const { client, queries, store, analyzer, clock, logger } = this.opts;
    const now = clock.now();
    await Promise.all(
      queries.map(async (q, i) => {
        const st = this.statuses[i] as QueryStatus;
        const r = await client.instant(q.query, now);
        st.lastRun = now;
        if (r.status === "error") {
          st.lastError = r.error;
          logger.warn({ query: q.name, error: r.error }, "PromQL query failed");
          return;
        }
        st.lastError = null;
        st.series = r.value.series.length;
        for (const s of r.value.series) {
          const labels: Labels = {
            ...s.labels,
            __name__: q.name,
            service: s.labels[q.service_label] ?? s.labels["service"] ?? s.labels["job"] ?? "unknown",
          };
          const series = store.upsert(labels);
          if (!series) continue;
          for (let k = 0; k < s.times.length; k++) {
            const t = s.times[k] as number;
            const v = s.values[k] as number;
            if (series.push(t, v)) analyzer?.observe(series, t, v);
          }
        }
      }),
    );
    analyzer?.flush();
  }

  start(): void {
    if (this.timer || this.opts.queries.length === 0) return;
    const tick = () => {
      if (!this.running)
        this.running = this.runOnce()
          .catch((e: unknown) => this.opts.logger.error({ err: e }, "PromQL round failed"))
          .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
