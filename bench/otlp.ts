/**
 * OTLP/HTTP intake throughput: batches of 512 spans (made and serialised by the real OpenTelemetry SDK),
 * protobuf and JSON, posted to `novasre serve` (one Node.js process, one event loop) for a fixed time each;
 * spans/s accepted, p99 request latency, server CPU. Also the decoders alone, in this process.
 *   npm run bench:otlp -- [--seconds 8] [--concurrency 8] [--batches 64]
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";
import { ShortStringCache, decodeTraceRequest, decodeTraceRequestJson } from "../src/ingest/index.js";
import { finish, flag, percentile, progress, rssMb, startServer } from "./lib.js";

const SPANS_PER_BATCH = 512;
const SPANS_PER_TRACE = 4;
const seconds = Number(flag("seconds", "8"));
const concurrency = Number(flag("concurrency", "8"));
const distinctBatches = Number(flag("batches", "64"));

/** Batches of traces frontend -> carts -> carts-db, 4 spans each, with the attributes HTTP instrumentation sets. */
function makeBatches(n: number): ReadableSpan[][] {
  const services = ["frontend", "carts"].map((name) => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        "service.name": name,
        "service.version": "1.4.2",
        "host.name": "node-7",
        "deployment.environment": "prod",
      }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    return { tracer: provider.getTracer("bench", "1.0.0"), exporter };
  });
  const [front, carts] = services as [(typeof services)[0], (typeof services)[0]];
  const out: ReadableSpan[][] = [];
  for (let b = 0; b < n; b++) {
    for (let t = 0; t < SPANS_PER_BATCH / SPANS_PER_TRACE; t++) {
      const http = { "http.request.method": "GET", "url.scheme": "http", "user_agent.original": "bench/1.0" };
      const root = front.tracer.startSpan("GET /checkout", {
        kind: SpanKind.SERVER,
        attributes: { ...http, "http.route": "/checkout" },
      });
      const call = front.tracer.startSpan(
        "GET",
        { kind: SpanKind.CLIENT, attributes: { ...http, "server.address": "carts", "server.port": 8080 } },
        trace.setSpan(ROOT_CONTEXT, root),
      );
      const srv = carts.tracer.startSpan(
        "GET /carts/:id",
        { kind: SpanKind.SERVER, attributes: { ...http, "http.route": "/carts/:id" } },
        trace.setSpan(ROOT_CONTEXT, call),
      );
      const db = carts.tracer.startSpan(
        "SELECT carts",
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "db.system": "postgresql",
            "peer.service": "carts-db",
            "db.statement": "SELECT * FROM carts WHERE id = $1",
          },
        },
        trace.setSpan(ROOT_CONTEXT, srv),
      );
      db.end();
      if (t % 50 === 0) srv.setStatus({ code: SpanStatusCode.ERROR, message: "timeout" });
      for (const [s, code] of [
        [srv, 200],
        [call, 200],
        [root, 200],
      ] as const) {
        s.setAttribute("http.response.status_code", code);
        s.end();
      }
    }
    out.push([...front.exporter.getFinishedSpans(), ...carts.exporter.getFinishedSpans()]);
    front.exporter.reset();
    carts.exporter.reset();
  }
  return out;
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}

const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
function post(url: URL, contentType: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent, headers: { "content-type": contentType, "content-length": body.length } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function drive(label: string, url: URL, contentType: string, bodies: Uint8Array[], pid: number) {
  const latencies: number[] = [];
  let accepted = 0;
  let refused = 0;
  let i = 0;
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const body = bodies[i++ % bodies.length] as Uint8Array;
      const s = performance.now();
      const status = await post(url, contentType, body);
      latencies.push(performance.now() - s);
      if (status === 200) accepted += SPANS_PER_BATCH;
      else refused++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  latencies.sort((a, b) => a - b);
  const r = {
    spansPerS: Math.round(accepted / wall),
    spansPerCpuS: Math.round(accepted / cpu),
    cpuShare: Number((cpu / wall).toFixed(2)),
    p99: Number(percentile(latencies, 99).toFixed(2)),
    refused,
    bytes: Math.round(bodies.reduce((a, b) => a + b.length, 0) / bodies.length),
  };
  progress(
    `${label}: ${r.spansPerS} spans/s (${r.spansPerCpuS} per server CPU-second, server CPU ${r.cpuShare}), p99 ${r.p99} ms, ${refused} refused, ${r.bytes} B/batch`,
  );
  return r;
}

function decodeRate(label: string, bodies: Uint8Array[], decode: (b: Buffer) => number): number {
  const bufs = bodies.map((b) => Buffer.from(b));
  for (const b of bufs.slice(0, 8)) decode(b);
  let spans = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 2000) for (const b of bufs) spans += decode(b);
  const rate = Math.round(spans / ((performance.now() - t0) / 1000));
  progress(`${label} decoder alone: ${rate} spans/s`);
  return rate;
}

progress(`making ${distinctBatches} batches of ${SPANS_PER_BATCH} spans with the OTel SDK`);
const batches = makeBatches(distinctBatches);
const proto = batches.map((b) => ProtobufTraceSerializer.serializeRequest(b) as Uint8Array);
const json = batches.map((b) => JsonTraceSerializer.serializeRequest(b) as Uint8Array);
if (decodeTraceRequest(Buffer.from(proto[0] as Uint8Array)).spans.length !== SPANS_PER_BATCH)
  throw new Error("protobuf decode check failed");

// One string cache across batches, as the receiver keeps (4,096 slots).
const strings = new ShortStringCache(4096);
const decodeProto = decodeRate("protobuf", proto, (b) => decodeTraceRequest(b, strings).spans.length);
const decodeJson = decodeRate(
  "json",
  json,
  (b) => decodeTraceRequestJson(JSON.parse(b.toString("utf8"))).spans.length,
);

const dir = await mkdtemp(join(tmpdir(), "novasre-bench-otlp-"));
const cfg = join(dir, "novasre.yaml");
await writeFile(
  cfg,
  `server: { host: 127.0.0.1, port: 0, body_limit_bytes: 8388608 }\nlog: { level: warn }\nstorage: { url: "sqlite::memory:" }\nauth: { receivers: { require_auth: false } }\n`,
);
const server = await startServer(cfg);
let protoR: Awaited<ReturnType<typeof drive>>;
let jsonR: Awaited<ReturnType<typeof drive>>;
let rss = 0;
try {
  const url = new URL(`${server.url}/v1/traces`);
  const pid = server.child.pid as number;
  // Warm up the server's JIT before measuring.
  for (let k = 0; k < 20; k++)
    await post(url, "application/x-protobuf", proto[k % proto.length] as Uint8Array);
  protoR = await drive("protobuf", url, "application/x-protobuf", proto, pid);
  jsonR = await drive("json", url, "application/json", json, pid);
  rss = Math.round(rssMb(pid));
} finally {
  agent.destroy();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

finish("otlp", {
  // The machine is shared: the 1-minute load average at the end tells how busy it was.
  load_avg_1m: Number(loadavg()[0]?.toFixed(1)),
  spans_per_s_protobuf: protoR.spansPerS,
  spans_per_s_json: jsonR.spansPerS,
  p99_ms: Math.max(protoR.p99, jsonR.p99),
  p99_ms_protobuf: protoR.p99,
  p99_ms_json: jsonR.p99,
  spans_per_server_cpu_s_protobuf: protoR.spansPerCpuS,
  spans_per_server_cpu_s_json: jsonR.spansPerCpuS,
  server_cpu_share_protobuf: protoR.cpuShare,
  server_cpu_share_json: jsonR.cpuShare,
  refused_requests: protoR.refused + jsonR.refused,
  decode_only_spans_per_s_protobuf: decodeProto,
  decode_only_spans_per_s_json: decodeJson,
  bytes_per_batch_protobuf: protoR.bytes,
  bytes_per_batch_json: jsonR.bytes,
  server_rss_mb: rss,
  spans_per_batch: SPANS_PER_BATCH,
  concurrency,
  seconds_per_encoding: seconds,
});
