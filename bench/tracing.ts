/**
 * Tracing overhead per request: the same node:http service under the same open-loop load (default 10,000
 * req/s offered) untraced, with the OpenTelemetry SDK defaults (AlwaysOn, BatchSpanProcessor, OTLP/protobuf
 * to a local sink) and with our adaptive sampler; overhead = service CPU per request minus the untraced one.
 *   npm run bench:tracing -- [--rate 10000] [--seconds 8] [--budget 100] [--tight-budget 5] [--rounds 1]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import { connect, type Socket } from "node:net";
import { loadavg } from "node:os";
import { join } from "node:path";
import { EventEmitter } from "node:events";
import { ROOT_CONTEXT, SpanKind, context, trace } from "@opentelemetry/api";
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { createTracing } from "../src/tracing/index.js";
import { finish, flag, progress, repoRoot } from "./lib.js";

const rate = Number(flag("rate", "10000"));
const seconds = Number(flag("seconds", "8"));
// Long enough for the adaptive sampler's slow start (0.01 doubling each second) to reach its steady rate.
const warmupS = Number(flag("warmup", "10"));
const budgetUs = Number(flag("budget", "100"));
/** A second budget below what AlwaysOn costs here, so the sampler has to act (the 100 us one may not bind). */
const tightBudgetUs = Number(flag("tight-budget", "5"));
const connections = Number(flag("connections", "32"));
/** Rounds over all modes, interleaved; each figure is the median over rounds (the machine is shared). */
const rounds = Number(flag("rounds", "1"));
/** Requests a connection may have outstanding (pipelined); more are not sent and count as not served. */
const MAX_OUTSTANDING = 32;

/** A sink for the exported spans: reads and acknowledges, nothing else. */
let sinkBytes = 0;
const sink = createServer((req, res) => {
  req.on("data", (d: Buffer) => (sinkBytes += d.length));
  req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
});
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/v1/traces`;

async function startService(mode: string, budget: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, "bench", "tracing-service.ts"), mode, sinkUrl, String(budget)],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      const m = /port (\d+)/.exec(d.toString());
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (c) => reject(new Error(`service exited ${c}`)));
  });
  return { child, port };
}

async function stats(
  port: number,
): Promise<{ cpu_us: number; rate?: number; measured_overhead_us?: number }> {
  return (await (await fetch(`http://127.0.0.1:${port}/__stats`)).json()) as { cpu_us: number };
}

/** Open-loop load over keep-alive connections with pipelining: requests are sent on schedule, not on answer. */
async function load(
  port: number,
  durationS: number,
): Promise<{ sent: number; answered: number; seconds: number }> {
  const REQ = Buffer.from("GET / HTTP/1.1\r\nHost: bench\r\n\r\n");
  const socks: { s: Socket; out: number; tail: string }[] = [];
  let answered = 0;
  for (let i = 0; i < connections; i++) {
    const s = connect(port, "127.0.0.1");
    s.setNoDelay(true);
    const c = { s, out: 0, tail: "" };
    s.on("data", (d: Buffer) => {
      const text = c.tail + d.toString("latin1");
      let k = text.indexOf("HTTP/1.1 ");
      while (k >= 0) {
        answered++;
        c.out--;
        k = text.indexOf("HTTP/1.1 ", k + 9);
      }
      c.tail = text.slice(-8);
    });
    s.on("error", () => undefined);
    socks.push(c);
    await new Promise<void>((r) => s.once("connect", () => r()));
  }
  let sent = 0;
  let next = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= durationS) {
        clearInterval(tick);
        resolve();
        return;
      }
      const due = Math.floor(elapsed * rate);
      let tries = 0;
      while (sent < due && tries < connections) {
        const c = socks[next++ % connections] as (typeof socks)[0];
        if (c.out >= MAX_OUTSTANDING) {
          tries++;
          continue;
        }
        c.out++;
        c.s.write(REQ);
        sent++;
        tries = 0;
      }
      // Requests that found every connection full are not sent: the offered rate was not served.
      if (sent < due) sent = due;
    }, 1);
  });
  const secondsTaken = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  for (const c of socks) c.s.destroy();
  return { sent, answered, seconds: secondsTaken };
}

async function run(mode: string, budget = budgetUs) {
  const svc = await startService(mode, budget);
  try {
    await load(svc.port, warmupS);
    const s0 = await stats(svc.port);
    const b0 = sinkBytes;
    const r = await load(svc.port, seconds);
    const s1 = await stats(svc.port);
    const exportedKb = Math.round((sinkBytes - b0) / 1024);
    const cpuPerReq = (s1.cpu_us - s0.cpu_us) / r.answered;
    const out = {
      mode,
      reqPerS: Math.round(r.answered / r.seconds),
      cpuUsPerReq: cpuPerReq,
      cpuShare: (s1.cpu_us - s0.cpu_us) / 1e6 / r.seconds,
      rate: s1.rate,
      measuredOverheadUs: s1.measured_overhead_us,
      exportedKb,
    };
    progress(
      `${mode}${mode === "adaptive" ? ` (budget ${budget} us)` : ""}: ${out.reqPerS} req/s answered of ${rate} offered, ${cpuPerReq.toFixed(1)} us CPU/request, service CPU ${out.cpuShare.toFixed(2)}, ${exportedKb} KiB exported` +
        (out.rate !== undefined
          ? `, sampling rate ${out.rate.toFixed(3)}, sampler-measured overhead ${out.measuredOverheadUs?.toFixed(1)} us`
          : ""),
    );
    return out;
  } finally {
    svc.child.kill("SIGTERM");
  }
}

type RunResult = Awaited<ReturnType<typeof run>>;
const results: Record<"none" | "otel" | "adaptive" | "tight", RunResult[]> = {
  none: [],
  otel: [],
  adaptive: [],
  tight: [],
};
for (let k = 0; k < rounds; k++) {
  if (rounds > 1) progress(`round ${k + 1}/${rounds}`);
  results.none.push(await run("none"));
  results.otel.push(await run("otel"));
  results.adaptive.push(await run("adaptive"));
  results.tight.push(await run("adaptive", tightBudgetUs));
}
/** The run with the median CPU per request. */
const median = (rs: RunResult[]): RunResult =>
  [...rs].sort((a, b) => a.cpuUsPerReq - b.cpuUsPerReq)[Math.floor((rs.length - 1) / 2)] as RunResult;
const none = median(results.none);
const otel = median(results.otel);
const adaptive = median(results.adaptive);
const tight = median(results.tight);
sink.close();

/**
 * The same wrappers called in this process on stub requests, with an exporter that drops spans: the CPU of
 * the instrumentation itself, without the service, the network or the export, and with far less noise.
 */
function inProcess(): Record<string, number> {
  class Res extends EventEmitter {
    statusCode = 200;
  }
  const N = 200_000;
  const drop: SpanExporter = { export: (_s, cb) => cb({ code: 0 }), shutdown: () => Promise.resolve() };
  const measure = (h: (req: never, res: never) => void): number => {
    let us = 0;
    for (let round = 0; round < 3; round++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < N; i++) {
        const res = new Res();
        h({ headers: {}, method: "GET" } as never, res as never);
        res.emit("finish");
      }
      const c = process.cpuUsage(c0);
      us = (c.user + c.system) / N;
    }
    return Number(us.toFixed(2));
  };
  const bare = measure(() => undefined);
  const tracer = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor(drop)],
  }).getTracer("b");
  const otelStyle = measure((req: { method: string }, res: Res) => {
    const span = tracer.startSpan(
      "GET /",
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method, "http.route": "/" } },
      ROOT_CONTEXT,
    );
    res.once("finish", () => {
      span.setAttribute("http.response.status_code", res.statusCode);
      span.end();
    });
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => undefined);
  });
  const helper = (r: number) =>
    measure(
      createTracing({ serviceName: "b", exporter: drop, initialRate: r, floor: r, ceiling: r }).traced(
        () => undefined,
        () => "/",
      ),
    );
  const out = {
    inproc_us_otel_always_on: Number((otelStyle - bare).toFixed(2)),
    inproc_us_adaptive_sampled: Number((helper(1) - bare).toFixed(2)),
    inproc_us_adaptive_unsampled: Number((helper(0) - bare).toFixed(2)),
  };
  progress(`in-process instrumentation CPU per request (no export): ${JSON.stringify(out)}`);
  return out;
}

const inproc = inProcess();
const overhead = (m: { cpuUsPerReq: number }) => Number((m.cpuUsPerReq - none.cpuUsPerReq).toFixed(1));
finish("tracing", {
  // The machine is shared: the 1-minute load average at the end tells how busy it was.
  load_avg_1m: Number(loadavg()[0]?.toFixed(1)),
  overhead_us_otel_default: overhead(otel),
  overhead_us_adaptive: overhead(adaptive),
  budget_us: budgetUs,
  req_per_s: adaptive.reqPerS,
  req_per_s_untraced: none.reqPerS,
  req_per_s_otel_default: otel.reqPerS,
  offered_req_per_s: rate,
  cpu_us_per_req_untraced: Number(none.cpuUsPerReq.toFixed(1)),
  adaptive_sampling_rate: adaptive.rate ?? null,
  adaptive_self_measured_overhead_us:
    adaptive.measuredOverheadUs !== undefined ? Number(adaptive.measuredOverheadUs.toFixed(1)) : null,
  budget_us_tight: tightBudgetUs,
  overhead_us_adaptive_tight: overhead(tight),
  adaptive_sampling_rate_tight: tight.rate ?? null,
  req_per_s_adaptive_tight: tight.reqPerS,
  ...inproc,
  seconds_per_mode: seconds,
  warmup_s: warmupS,
  rounds,
});
