import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { urlToHttpOptions } from "node:url";
import { gunzipSync } from "node:zlib";
import { Counter, Gauge, type Registry } from "prom-client";
import { fail, fingerprint, ok, type Clock, type Labels, type Logger, type Result } from "../core/index.js";
import { formatOf, scanSamples, type SampleCursor } from "./prom-text.js";
import type { SeriesAnalyzer } from "./series-analyzer.js";
import type { Series, SeriesStore } from "./series-store.js";
import type { ScrapeTargetConfig, TelemetryConfig } from "./telemetry-config.js";

/** What we ask targets for: OpenMetrics first, then the classic text format, as Prometheus does. */
export const SCRAPE_ACCEPT =
  "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

export interface ScrapeTarget {
  url: string;
  job: string;
  instance: string;
  service: string;
  intervalMs: number;
  timeoutMs: number;
  /** Labels the target sets on every series (job, instance, the configured extras, service if configured). */
  targetLabels: Labels;
  /** Labels a series gets only when it does not expose them itself (service: the job, by default). */
  defaultLabels: Labels;
}

export function resolveTargets(cfg: TelemetryConfig["scrape"]): ScrapeTarget[] {
  return cfg.targets.map((t: ScrapeTargetConfig) => {
    const u = new URL(t.url);
    const instance = t.instance ?? u.host;
    const service = t.service ?? t.job;
    return {
      url: t.url,
      job: t.job,
      instance,
      service,
      intervalMs: t.interval ?? cfg.interval,
      timeoutMs: Math.min(t.timeout ?? cfg.timeout, t.interval ?? cfg.interval),
      targetLabels: { ...t.labels, job: t.job, instance, ...(t.service ? { service } : {}) },
      defaultLabels: { service },
    };
  });
}

/**
 * Target labels win over exposed ones; an exposed label of the same name is kept as `exported_<name>`
 * (Prometheus' honor_labels: false). Default labels fill in only what the series does not have.
 */
export function relabel(name: string, exposed: Labels, target: Labels, defaults: Labels = {}): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(exposed)) out[k in target ? `exported_${k}` : k] = v;
  for (const [k, v] of Object.entries(target)) out[k] = v;
  for (const [k, v] of Object.entries(defaults)) if (!(k in out) || out[k] === "") out[k] = v;
  out["__name__"] = name;
  return out;
}

export interface TargetStatus {
  url: string;
  job: string;
  instance: string;
  service: string;
  health: "up" | "down" | "unknown";
  lastScrape: number | null;
  lastDurationMs: number | null;
  lastError: string | null;
  series: number;
}

interface TargetState {
  target: ScrapeTarget;
  /** Request options (URL parsed, headers, agent), made once: http.request would redo them per scrape. */
  https: boolean;
  request: RequestOptions;
  /** Series text as exposed -> series, for the samples this target exposed last time. */
  cache: Map<string, Series>;
  /**
   * The series texts and series of the last scrape in exposition order: exporters write their series in
   * the same order every time, so the n-th sample's text is compared with the n-th text of the last scrape
   * (the scanner's hints: one memcmp instead of a char-by-char scan, no map lookup, no hashing), and only a
   * mismatch goes to `cache`.
   */
  orderKeys: string[];
  orderSeries: (Series | undefined)[];
  status: TargetStatus;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Number of the current scrape, stamped on the series it exposes (Series.mark). */
  epoch: number;
  /** The target's `up` and `scrape_duration_seconds` series, kept to skip hashing their labels each scrape. */
  synthetic: Map<string, Series>;
}

export interface ScraperOptions {
  targets: ScrapeTarget[];
  store: SeriesStore;
  analyzer?: SeriesAnalyzer;
  clock: Clock;
  logger: Logger;
  maxBodyBytes: number;
  registry?: Registry;
}

/**
 * Scrapes /metrics targets on their intervals (each at its own offset in the interval, so 1,000 targets do
 * not fire together), writes samples into the series store and through the analyzer, and ends the series a
 * target stops exposing, or all of them when the target is down.
 */
export class Scraper {
  private readonly states: TargetState[];
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 4 });
  private stopped = true;
  private inFlight = new Set<Promise<unknown>>();
  private readonly got: Series[] = [];
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private readonly m: { scrapes: Counter<"result">; samples: Counter; series: Gauge } | undefined;

  constructor(private readonly opts: ScraperOptions) {
    this.states = opts.targets.map((target) => this.stateOf(target));
    if (opts.registry) {
      const registers = [opts.registry];
      const store = opts.store;
      this.m = {
        scrapes: new Counter({
          name: "telemetry_scrapes_total",
          help: "Scrapes by result (ok, error)",
          labelNames: ["result"],
          registers,
        }),
        samples: new Counter({ name: "telemetry_scraped_samples_total", help: "Samples scraped", registers }),
        series: new Gauge({
          name: "telemetry_series",
          help: "Series held in memory",
          registers,
          collect() {
            this.set(store.size);
          },
        }),
      };
    }
  }

  private stateOf(target: ScrapeTarget): TargetState {
    const url = new URL(target.url);
    const https = url.protocol === "https:";
    return {
      target,
      https,
      request: {
        ...urlToHttpOptions(url),
        agent: https ? this.httpsAgent : this.httpAgent,
        headers: {
          accept: SCRAPE_ACCEPT,
          "x-prometheus-scrape-timeout-seconds": String(target.timeoutMs / 1000),
          "user-agent": "novasre-scraper",
        },
      },
      cache: new Map(),
      orderKeys: [],
      orderSeries: [],
      running: false,
      timer: undefined,
      epoch: 0,
      synthetic: new Map(),
      status: {
        url: target.url,
        job: target.job,
        instance: target.instance,
        service: target.service,
        health: "unknown",
        lastScrape: null,
        lastDurationMs: null,
        lastError: null,
        series: 0,
      },
    };
  }

  status(): TargetStatus[] {
    return this.states.map((s) => ({ ...s.status }));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const t0 = Date.now();
    for (const st of this.states) {
      const interval = st.target.intervalMs;
      // A stable offset per target spreads scrapes across the interval.
      const offset = parseInt(fingerprint({ url: st.target.url }).slice(0, 8), 16) % interval;
      const schedule = (k: number) => {
        if (this.stopped) return;
        const due = t0 + offset + k * interval;
        st.timer = setTimeout(
          () => {
            if (!st.running) this.track(this.scrapeState(st));
            schedule(Math.max(k + 1, Math.floor((Date.now() - t0 - offset) / interval) + 1));
          },
          Math.max(0, due - Date.now()),
        );
        st.timer.unref();
      };
      schedule(0);
    }
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const st of this.states) clearTimeout(st.timer);
    await Promise.allSettled([...this.inFlight]);
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Scrapes target `i` now (tests, and the scheduler). */
  scrapeOnce(i: number): Promise<Result<{ samples: number }>> {
    const st = this.states[i];
    if (!st) throw new RangeError(`no target ${i}`);
    return this.scrapeState(st);
  }

  private async scrapeState(st: TargetState): Promise<Result<{ samples: number }>> {
    st.running = true;
    const started = performance.now();
    const now = this.opts.clock.now();
    try {
      const res = await this.fetchBody(st);
      const r = res.status === "ok" ? this.ingest(st, res.value.body, res.value.contentType, now) : res;
      const durationMs = performance.now() - started;
      st.status.lastScrape = now;
      st.status.lastDurationMs = durationMs;
      if (r.status === "ok") {
        st.status.health = "up";
        st.status.lastError = null;
        this.m?.scrapes.inc({ result: "ok" });
        this.m?.samples.inc(r.value.samples);
      } else {
        st.status.health = "down";
        st.status.lastError = r.error;
        this.m?.scrapes.inc({ result: "error" });
        for (const s of st.cache.values()) this.opts.store.end(s);
        st.cache.clear();
      }
      st.status.series = st.cache.size;
      this.synthetic(st, now, r.status === "ok" ? 1 : 0, durationMs / 1000);
      this.opts.analyzer?.flush();
      return r;
    } finally {
      st.running = false;
    }
  }

  /** `up` and `scrape_duration_seconds` per target, as Prometheus records them. */
  private synthetic(st: TargetState, now: number, up: number, seconds: number): void {
    this.syntheticSample(st, "up", now, up);
    this.syntheticSample(st, "scrape_duration_seconds", now, seconds);
  }

  private syntheticSample(st: TargetState, name: string, now: number, v: number): void {
    let s = st.synthetic.get(name);
    if (s === undefined || s.ended) {
      s = this.opts.store.upsert({ ...st.target.defaultLabels, ...st.target.targetLabels, __name__: name });
      if (!s) return;
      st.synthetic.set(name, s);
    }
    if (s.push(now, v)) this.opts.analyzer?.observe(s, now, v);
  }

  private ingest(
    st: TargetState,
    body: string,
    contentType: string | undefined,
    now: number,
  ): Result<{ samples: number }> {
    const { store, analyzer } = this.opts;
    // The cache is updated in place: in the steady state a scrape allocates only short-lived objects, so
    // nothing it makes survives into the old generation (where 200,000 series make major GCs dear).
    const { cache, orderKeys, orderSeries } = st;
    const epoch = ++st.epoch;
    const target = st.target.targetLabels;
    const defaults = st.target.defaultLabels;
    let labelError: string | undefined;
    // Samples are applied only once the whole exposition parsed: a malformed scrape adds nothing. The
    // arrays are the scraper's, reused (ingest is synchronous).
    const { got, times, values } = this;
    got.length = times.length = values.length = 0;
    let n = 0;
    let marked = 0;
    const r = scanSamples(
      body,
      formatOf(contentType),
      {
        sample(c: SampleCursor) {
          const i = n++;
          let s = orderSeries[i];
          // `hinted`: the text equals orderKeys[i] (the scanner compared them, one memcmp of a slice, and
          // skipped scanning the text char by char).
          if (!c.hinted || s === undefined || s.ended) {
            const key = c.key();
            s = cache.get(key);
            if (s === undefined || s.ended) {
              let exposed: Labels;
              try {
                exposed = c.labels();
              } catch (e) {
                labelError ??= (e as Error).message;
                return;
              }
              s = store.upsert(relabel(c.name(), exposed, target, defaults));
              if (s) cache.set(key, s);
            }
            orderKeys[i] = key;
            orderSeries[i] = s;
            if (!s) return;
          }
          if (s.mark !== epoch) {
            s.mark = epoch;
            marked++;
          }
          got.push(s);
          times.push(c.timestampMs ?? now);
          values.push(c.value);
        },
      },
      orderKeys,
    );
    orderKeys.length = Math.min(orderKeys.length, n);
    orderSeries.length = Math.min(orderSeries.length, n);
    // On failure the caller ends every series of the cache, those this scrape added included.
    if (r.status === "error") return r;
    if (labelError !== undefined) return fail(labelError, false);
    for (let i = 0; i < got.length; i++) {
      const s = got[i] as Series;
      const t = times[i] as number;
      const v = values[i] as number;
      if (s.push(t, v)) analyzer?.observe(s, t, v);
    }
    // Every cached series exposed again (the steady state): nothing to end, no need to walk the cache.
    if (marked !== cache.size)
      for (const [key, s] of cache) {
        if (s.mark !== epoch || s.ended) {
          store.end(s);
          cache.delete(key);
        }
      }
    got.length = 0;
    return r;
  }

  private fetchBody(st: TargetState): Promise<Result<{ body: string; contentType: string | undefined }>> {
    const t = st.target;
    const https = st.https;
    const max = this.opts.maxBodyBytes;
    return new Promise((resolve) => {
      let done = false;
      // A plain timer: cheaper than an AbortSignal per request at a thousand targets.
      const timer = setTimeout(() => {
        finish(fail(`timeout after ${t.timeoutMs} ms`, true));
        req.destroy();
      }, t.timeoutMs);
      const finish = (r: Result<{ body: string; contentType: string | undefined }>) => {
        if (!done) {
          done = true;
          clearTimeout(timer);
          resolve(r);
        }
      };
      const req = (https ? httpsRequest : httpRequest)(st.request, (res: IncomingMessage) => {
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
          res.resume();
          return finish(fail(`HTTP ${res.statusCode}`, true));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > max) {
            req.destroy();
            finish(fail(`body exceeds ${max} bytes`, false));
          } else chunks.push(c);
        });
        res.on("end", () => {
          let buf = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
          if (res.headers["content-encoding"] === "gzip") {
            try {
              buf = gunzipSync(buf, { maxOutputLength: max });
            } catch {
              return finish(fail("invalid or too large gzip body", false));
            }
          }
          finish(ok({ body: buf.toString("utf8"), contentType: res.headers["content-type"] }));
        });
        res.on("error", (e) => finish(fail(e.message, true)));
      });
      req.on("error", (e) =>
        finish(fail(e.name === "AbortError" ? `timeout after ${t.timeoutMs} ms` : e.message, true)),
      );
      req.end();
    });
  }
}
