// Chaos engine figures: proxy overhead (against a direct connection and a minimal C relay), latency and
// bandwidth toxic accuracy, emergency stop time.
// Usage: npm run bench:chaos [-- --mb 256 --runs 7 --samples 60 --client-buffer-kib 64]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { createConnection, createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChaosEngine, ChaosState, experimentSchema, runAction, type Action } from "../src/chaos/index.js";
import { finish, flag, progress, repoRoot } from "./lib.js";

const MB = Number(flag("mb", "256"));
const SAMPLES = Number(flag("samples", "60"));
const RUNS = Number(flag("runs", "7"));
// The reused-buffer client's read size; 256 reproduces the earlier, flattering client (see CLIENT).
const CLIENT_BUFFER_KIB = Number(flag("client-buffer-kib", "64"));
if (!Number.isInteger(CLIENT_BUFFER_KIB) || CLIENT_BUFFER_KIB < 1) {
  process.stderr.write("--client-buffer-kib must be a whole number of KiB, at least 1\n");
  process.exit(2);
}
const LATENCY_MS = 50;
const RATE_KBPS = 1000;
const BANDWIDTH_BYTES = 3_000_000;
const STOP_FAULTS = 100;
const GUARD_INTERVAL_MS = 200;
const GUARD_RUNS = 5;

// Upstream in its own process: streams N bytes on "N\n", echoes lines starting with "e".
const UPSTREAM = `
const net = require("net");
const chunk = Buffer.alloc(65536, 97);
net.createServer({ noDelay: true }, (s) => {
  s.on("error", () => {});
  s.on("data", (d) => {
    if (d[0] === 101) return s.write(d);
    let left = Number(d.toString().trim());
    const pump = () => { while (left > 0) { const n = Math.min(left, chunk.length); left -= n; if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return s.once("drain", pump); } s.end(); };
    pump();
  });
}).listen(0, "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });
`;
// The downloading client for the throughput runs, in its own plain process (as the upstream is), so the
// figure measures the proxy rather than this process's own load. "PORT BYTES MODE\n" in, "MS\n" out.
// MODE "reused" reads into one 64 KiB buffer (--client-buffer-kib), as a load generator does; "allocating" is Node's default
// (a fresh 64 KiB buffer per read). The reused buffer is the fastest reader measured on the direct path
// (1.6-2.9 GB/s here, against 1.0-1.4 GB/s with a 256 KiB buffer, which an earlier version used: that
// made the client the direct path's bottleneck and flattered the ratio).
const CLIENT = `
const net = require("net");
const buf = Buffer.allocUnsafe(${CLIENT_BUFFER_KIB} * 1024);
const rl = require("readline").createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const [port, bytes, mode] = line.split(" ");
  const want = Number(bytes);
  const t0 = performance.now();
  let got = 0;
  const opts = { host: "127.0.0.1", port: Number(port), noDelay: true };
  if (mode === "reused") opts.onread = { buffer: buf, callback: (n) => { got += n; } };
  const s = net.createConnection(opts, () => s.write(want + "\\n"));
  if (mode !== "reused") s.on("data", (d) => (got += d.length));
  s.once("error", (e) => process.stdout.write("error " + e.message + "\\n"));
  s.once("close", () => process.stdout.write(got === want ? (performance.now() - t0) + "\\n" : "short " + got + "\\n"));
});
process.stdout.write("ready\\n");
`;
const PROXY_API = `import("${join(repoRoot, "src/chaos/index.ts")}").then(async (m) => { const a = await m.startProxyApi({}); process.stdout.write(a.url + "\\n"); });`;

function startChild(
  args: string[],
  stdin = false,
  command = process.execPath,
): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [stdin ? "pipe" : "ignore", "pipe", "inherit"] });
    let out = "";
    const first = (d: Buffer) => {
      out += d.toString();
      if (!out.includes("\n")) return;
      child.stdout?.off("data", first);
      resolve({ child, line: out.trim() });
    };
    child.stdout?.on("data", first);
    child.once("exit", (c) => reject(new Error(`child exited ${c}`)));
  });
}

function download(port: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let got = 0;
    const s = createConnection({ host: "127.0.0.1", port, noDelay: true }, () => s.write(`${bytes}\n`));
    s.on("data", (d: Buffer) => (got += d.length));
    s.once("error", reject);
    s.once("close", () =>
      got === bytes ? resolve(performance.now() - t0) : reject(new Error(`got ${got} of ${bytes}`)),
    );
  });
}

async function rtts(port: number, n: number): Promise<number[]> {
  const s: Socket = await new Promise((r) => {
    const c = createConnection({ host: "127.0.0.1", port, noDelay: true }, () => r(c));
  });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      s.once("data", () => r());
      s.write("e ping");
    });
    out.push(performance.now() - t0);
  }
  s.destroy();
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? undefined : r.json();
}

const upstream = await startChild(["-e", UPSTREAM]);
const upPort = Number(upstream.line);
const proxyProc = await startChild(["--import", "tsx", "-e", PROXY_API]);
const proxyApi = proxyProc.line;
const created = (await api(proxyApi, "POST", "/proxies", {
  name: "bench",
  listen: "127.0.0.1:0",
  upstream: `127.0.0.1:${upPort}`,
})) as { listen: string };
const proxyPort = Number(created.listen.split(":")[1]);
progress(`upstream :${upPort}, proxy API ${proxyApi}, proxy :${proxyPort} (each in its own process)`);

// The reference relay (bench/reference-relay.c): what a minimal user-space relay achieves here, measured with
// the same client in the same pairs. Compiled now; without a C compiler its figures are null.
const relayDir = await mkdtemp(join(tmpdir(), "novasre-bench-relay-"));
const relayBin = join(relayDir, "reference-relay");
const cc = spawnSync("cc", ["-O2", "-pthread", "-o", relayBin, join(repoRoot, "bench/reference-relay.c")], {
  encoding: "utf8",
});
let relay: { child: ChildProcess; port: number } | undefined;
if (cc.status === 0) {
  const r = await startChild([String(upPort)], false, relayBin);
  relay = { child: r.child, port: Number(r.line) };
  progress(`reference relay (C, blocking splice, a thread per direction) :${relay.port}`);
} else {
  progress(`reference relay skipped: cc failed (${(cc.error?.message ?? cc.stderr).trim().split("\n")[0]})`);
}

// 1. Throughput, for each client: one download each way to warm up (JIT, socket buffers), then RUNS
// pairs, alternating.
const bytes = MB * 1024 * 1024;
const client = await startChild(["-e", CLIENT], true);
const clientWaiters: ((l: string) => void)[] = [];
client.child.stdout?.on("data", (d: Buffer) => {
  for (const l of d.toString().split("\n").filter(Boolean)) {
    clientWaiters.shift()?.(l);
  }
});
const clientDownload = (port: number, mode: ClientMode): Promise<number> =>
  new Promise((resolve, reject) => {
    clientWaiters.push((l) => (Number.isFinite(Number(l)) ? resolve(Number(l)) : reject(new Error(l))));
    client.child.stdin?.write(`${port} ${bytes} ${mode}\n`);
  });
/** CPU milliseconds a process has used (user + system), from /proc. */
const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
};
const toMBps = (bytesPerMs: number) => (bytesPerMs * 1000) / 1048576;
type ClientMode = "reused" | "allocating";
const throughput: Record<
  ClientMode,
  { direct: number; proxied: number; ratio: number; proxyCpuMsPerGB: number }
> = {} as never;
let reference: { mbPerS: number; ratio: number } | undefined;
for (const mode of ["reused", "allocating"] as const) {
  // The reference relay runs with the headline client only: one relay figure is enough to place the proxy.
  const relayPort = mode === "reused" ? relay?.port : undefined;
  await clientDownload(upPort, mode);
  await clientDownload(proxyPort, mode);
  if (relayPort) await clientDownload(relayPort, mode);
  const direct: number[] = [];
  const proxied: number[] = [];
  const relayed: number[] = [];
  let proxyCpuMs = 0;
  for (let i = 0; i < RUNS; i++) {
    direct.push(bytes / (await clientDownload(upPort, mode)));
    const c0 = cpuMs(proxyProc.child.pid as number);
    proxied.push(bytes / (await clientDownload(proxyPort, mode)));
    proxyCpuMs += cpuMs(proxyProc.child.pid as number) - c0;
    if (relayPort) relayed.push(bytes / (await clientDownload(relayPort, mode)));
  }
  const d = toMBps(median(direct));
  const p = toMBps(median(proxied));
  throughput[mode] = {
    direct: d,
    proxied: p,
    ratio: p / d,
    proxyCpuMsPerGB: proxyCpuMs / ((RUNS * bytes) / 1024 ** 3),
  };
  if (relayed.length) reference = { mbPerS: toMBps(median(relayed)), ratio: toMBps(median(relayed)) / d };
  const list = (xs: number[]) => xs.map((x) => toMBps(x).toFixed(0)).join(", ");
  progress(
    `${mode} client: ratio ${(p / d).toFixed(3)}, proxy CPU ${throughput[mode].proxyCpuMsPerGB.toFixed(0)} ms per GiB; MB/s direct ${list(direct)}; through the proxy ${list(proxied)}` +
      (relayed.length
        ? `; through the reference relay ${list(relayed)} (ratio ${reference?.ratio.toFixed(3)})`
        : ""),
  );
}
client.child.kill();

// 2. Latency toxic accuracy: added round-trip time versus the clean proxy.
const clean = await rtts(proxyPort, SAMPLES);
await api(proxyApi, "POST", "/proxies/bench/toxics", {
  name: "lat",
  type: "latency",
  stream: "downstream",
  attributes: { latency: LATENCY_MS },
});
const slow = await rtts(proxyPort, SAMPLES);
await api(proxyApi, "DELETE", "/proxies/bench/toxics/lat");
const added = mean(slow) - mean(clean);
progress(
  `latency: requested ${LATENCY_MS} ms, added ${added.toFixed(2)} ms (clean RTT ${mean(clean).toFixed(3)} ms)`,
);

// 3. Bandwidth toxic accuracy.
await api(proxyApi, "POST", "/proxies/bench/toxics", {
  name: "bw",
  type: "bandwidth",
  stream: "downstream",
  attributes: { rate: RATE_KBPS },
});
const bwMs = await download(proxyPort, BANDWIDTH_BYTES);
await api(proxyApi, "DELETE", "/proxies/bench/toxics/bw");
const measuredKBps = BANDWIDTH_BYTES / bwMs; // bytes per ms == KB/s
progress(`bandwidth: requested ${RATE_KBPS} KB/s, measured ${measuredKBps.toFixed(1)} KB/s`);

// 4. Emergency stop with 100 active faults: half toxics on the proxy, half paused processes.
const dir = await mkdtemp(join(tmpdir(), "novasre-bench-chaos-"));
const engine = new ChaosEngine({ state: new ChaosState(dir), level: "dev", watchdog: false });
const sleepers: ChildProcess[] = [];
const state = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  return s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3);
};
/** 100 active faults in the ledger: half toxics on the proxy, half paused processes. */
async function armFaults(tag: string): Promise<ChildProcess[]> {
  const paused: ChildProcess[] = [];
  for (let i = 0; i < STOP_FAULTS; i++) {
    let apply: Action;
    let revert: Action;
    if (i % 2 === 0) {
      const url = `${proxyApi}/proxies/bench/toxics`;
      apply = {
        kind: "http",
        method: "POST",
        url,
        body: { name: `${tag}${i}`, type: "latency", attributes: { latency: 10 } },
      };
      revert = { kind: "http", method: "DELETE", url: `${url}/${tag}${i}` };
    } else {
      const c = spawn("sleep", ["600"], { stdio: "ignore" });
      paused.push(c);
      sleepers.push(c);
      await new Promise((r) => c.once("spawn", r));
      apply = { kind: "signal", pid: c.pid as number, signal: "SIGSTOP" };
      revert = { kind: "signal", pid: c.pid as number, signal: "SIGCONT" };
    }
    engine.state.ledger.record({
      id: `flt_${tag}${i}`,
      runId: "bench",
      fault: `f${i}`,
      target: "bench",
      revert: [revert],
      appliedAt: Date.now(),
      pid: process.pid,
    });
    const r = await runAction(apply);
    if (r.status === "error") throw new Error(r.error);
  }
  // SIGSTOP is delivered asynchronously: wait until every target shows as stopped before timing the stop.
  for (let i = 0; i < 100 && paused.some((c) => state(c.pid as number) !== "T"); i++)
    await new Promise((r) => setTimeout(r, 10));
  return paused;
}
await armFaults("t");
const before = ((await api(proxyApi, "GET", "/proxies/bench/toxics")) as unknown[]).length;
const paused = sleepers.filter((c) => state(c.pid as number) === "T").length;
const active = engine.state.ledger.pending().length;
const stop = await engine.emergencyStop("bench", "bench");
const leftToxics = ((await api(proxyApi, "GET", "/proxies/bench/toxics")) as unknown[]).length;
const leftPaused = sleepers.filter((c) => state(c.pid as number) === "T").length;
progress(
  `emergency stop: ${before} toxics + ${paused} paused processes reverted in ${stop.ms.toFixed(1)} ms (left: ${leftToxics} toxics, ${leftPaused} paused)`,
);
if (leftToxics || leftPaused) throw new Error("emergency stop left faults active");

engine.clearStop();
// 4b. The same from the command line: `novasre chaos stop` in a new process, from spawn to exit (Node
// start-up included), against a ledger of 100 active faults this process applied.
const cliPaused = await armFaults("c");
const cliT0 = performance.now();
const cli = spawn(process.execPath, [join(repoRoot, "bin/novasre.js"), "chaos", "stop", "--state-dir", dir], {
  stdio: ["ignore", "ignore", "inherit"],
});
const cliCode = await new Promise<number | null>((r) => cli.once("exit", r));
const cliStopMs = performance.now() - cliT0;
const cliLeftToxics = ((await api(proxyApi, "GET", "/proxies/bench/toxics")) as unknown[]).length;
const cliLeftPaused = cliPaused.filter((c) => state(c.pid as number) === "T").length;
progress(
  `CLI stop: novasre chaos stop exited ${cliCode} after ${cliStopMs.toFixed(0)} ms (left: ${cliLeftToxics} toxics, ${cliLeftPaused} paused)`,
);
if (cliCode !== 0 || cliLeftToxics || cliLeftPaused) throw new Error("novasre chaos stop left faults active");
engine.clearStop();
// 5. Auto-abort: a guard at a 200 ms interval breaches as soon as the fault is applied (HTTP 500s);
// time from the fault's apply to the end of its revert.
const web = createServer((_q, r) => r.end("ok"));
const webPort: number = await new Promise((r) =>
  web.listen(0, "127.0.0.1", () => r((web.address() as { port: number }).port)),
);
const guardTimes: number[] = [];
for (let i = 0; i < GUARD_RUNS; i++) {
  const gport = await new Promise<number>((r) => {
    const s = createNetServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => r(p));
    });
  });
  const j = await engine.run(
    experimentSchema.parse({
      title: "guard",
      proxies: [{ name: "g", listen: `127.0.0.1:${gport}`, upstream: `127.0.0.1:${webPort}`, mode: "http" }],
      guards: {
        interval: GUARD_INTERVAL_MS,
        probes: [{ name: "ok", http: { url: `http://127.0.0.1:${gport}/`, timeout: 150 } }],
      },
      method: [
        {
          fault: {
            name: "errors",
            type: "toxic",
            proxy: "g",
            toxic: { type: "http_status", attributes: { status: 500 } },
          },
        },
        { wait: "10s" },
      ],
      recovery_timeout: 0,
    }),
  );
  const applied = j.run.find((x) => x.type === "fault");
  const reverted = j.run.find((x) => x.type === "revert");
  if (j.status !== "aborted" || !applied || !reverted) throw new Error(`guard run ended ${j.status}`);
  guardTimes.push(reverted.end - applied.end);
}
// 6. Stop by flag: `touch <state_dir>/STOP` while an experiment runs; time until its fault is gone.
const fport = await new Promise<number>((r) => {
  const s = createNetServer().listen(0, "127.0.0.1", () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => r(p));
  });
});
const flagRun = engine.run(
  experimentSchema.parse({
    title: "flag",
    proxies: [{ name: "f", listen: `127.0.0.1:${fport}`, upstream: `127.0.0.1:${webPort}`, mode: "http" }],
    method: [
      {
        fault: {
          name: "errors",
          type: "toxic",
          proxy: "f",
          toxic: { type: "http_status", attributes: { status: 500 } },
        },
      },
      { wait: "30s" },
    ],
    recovery_timeout: 0,
  }),
);
const statusOf = () =>
  fetch(`http://127.0.0.1:${fport}/`).then(
    (r) => r.status,
    () => 0,
  );
while ((await statusOf()) !== 500) await new Promise((r) => setTimeout(r, 20));
const flagT0 = performance.now();
writeFileSync(join(dir, "STOP"), "");
while ((await statusOf()) === 500) await new Promise((r) => setTimeout(r, 5));
const flagStopMs = performance.now() - flagT0;
await flagRun;
engine.clearStop();
progress(`stop flag: fault reverted ${flagStopMs.toFixed(1)} ms after touching STOP`);
web.close();
progress(
  `auto-abort: guard interval ${GUARD_INTERVAL_MS} ms, fault applied to reverted ${guardTimes.join(", ")} ms`,
);

for (const c of sleepers) c.kill("SIGKILL");
upstream.child.kill("SIGKILL");
proxyProc.child.kill("SIGKILL");
relay?.child.kill("SIGKILL");
await rm(dir, { recursive: true, force: true });
await rm(relayDir, { recursive: true, force: true });

finish("chaos", {
  proxy_throughput_ratio: Number(throughput.reused.ratio.toFixed(3)),
  direct_mb_per_s: Math.round(throughput.reused.direct),
  proxy_mb_per_s: Math.round(throughput.reused.proxied),
  proxy_cpu_ms_per_gb: Math.round(throughput.reused.proxyCpuMsPerGB),
  // The same client through bench/reference-relay.c: a minimal user-space relay, for scale.
  reference_relay_mb_per_s: reference ? Math.round(reference.mbPerS) : null,
  reference_relay_ratio: reference ? Number(reference.ratio.toFixed(3)) : null,
  proxy_vs_reference_relay: reference
    ? Number((throughput.reused.proxied / reference.mbPerS).toFixed(3))
    : null,
  proxy_throughput_ratio_allocating_client: Number(throughput.allocating.ratio.toFixed(3)),
  direct_mb_per_s_allocating_client: Math.round(throughput.allocating.direct),
  proxy_mb_per_s_allocating_client: Math.round(throughput.allocating.proxied),
  latency_requested_ms: LATENCY_MS,
  latency_added_ms: Number(added.toFixed(2)),
  latency_mean_error_ms: Number(Math.abs(added - LATENCY_MS).toFixed(2)),
  bandwidth_requested_kb_per_s: RATE_KBPS,
  bandwidth_measured_kb_per_s: Number(measuredKBps.toFixed(1)),
  bandwidth_error_pct: Number(((Math.abs(measuredKBps - RATE_KBPS) / RATE_KBPS) * 100).toFixed(2)),
  emergency_stop_faults: active,
  emergency_stop_ms: Number(stop.ms.toFixed(1)),
  emergency_stop_flag_ms: Number(flagStopMs.toFixed(1)),
  emergency_stop_cli_ms: Math.round(cliStopMs),
  guard_interval_ms: GUARD_INTERVAL_MS,
  guard_abort_ms_max: Math.max(...guardTimes),
  guard_abort_ms_mean: Math.round(mean(guardTimes)),
});
process.exit(0);
