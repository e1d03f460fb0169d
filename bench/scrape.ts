/**
 * Scraping cost: `novasre serve` scraping N fake targets x M series every interval (all served by one
 * local fake exporter process, distinct instance labels), measured over whole intervals after one warm-up
 * interval that creates the series. Keys: series_per_s, cpu_share (server CPU seconds per wall second, one
 * core = 1), rss_mb.
 *   npm run bench:scrape -- [--targets 1000] [--series 200] [--interval 15] [--intervals 2]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { finish, flag, progress, rssMb, startServer } from "./lib.js";

const targets = Number(flag("targets", "1000"));
const seriesPerTarget = Number(flag("series", "200"));
const intervalS = Number(flag("interval", "15"));
const intervals = Number(flag("intervals", "2"));
const FAMILIES = 20;

/** The fake exporter: one process, /t/<i>/metrics for every target, counters that grow and gauges that wander. */
const EXPORTER = `
const http = require("node:http");
const families = ${FAMILIES}, per = Math.ceil(${seriesPerTarget} / families);
let hits = 0;
const server = http.createServer((req, res) => {
  const m = /^\\/t\\/(\\d+)\\/metrics$/.exec(req.url || "");
  if (!m) { res.writeHead(404).end(); return; }
  const t = Number(m[1]); hits++;
  const lines = [];
  let n = 0;
  for (let f = 0; f < families && n < ${seriesPerTarget}; f++) {
    const counter = f % 2 === 0;
    const name = counter ? "app_requests_" + f + "_total" : "app_gauge_" + f;
    lines.push("# HELP " + name + " Fake metric " + f + ".", "# TYPE " + name + (counter ? " counter" : " gauge"));
    for (let k = 0; k < per && n < ${seriesPerTarget}; k++, n++) {
      const v = counter ? hits * (k + 1) + t : Math.round(Math.random() * 1000) / 10;
      lines.push(name + '{route="/api/v1/r' + k + '",method="' + (k % 2 ? "GET" : "POST") + '",code="200"} ' + v);
    }
  }
  res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(lines.join("\\n") + "\\n");
});
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

const exporter = spawn(process.execPath, ["-e", EXPORTER], { stdio: ["ignore", "pipe", "inherit"] });
const port = await new Promise<number>((resolve, reject) => {
  exporter.stdout.on("data", (d: Buffer) => {
    const m = /port (\d+)/.exec(d.toString());
    if (m) resolve(Number(m[1]));
  });
  exporter.once("exit", (c) => reject(new Error(`fake exporter exited ${c}`)));
});
progress(`fake exporter on port ${port}: ${targets} targets x ${seriesPerTarget} series`);

const dir = await mkdtemp(join(tmpdir(), "novasre-bench-scrape-"));
const cfgPath = join(dir, "novasre.json.yaml");
const config = {
  server: { host: "127.0.0.1", port: 0 },
  log: { level: "warn" },
  storage: { url: "sqlite::memory:" },
  telemetry: {
    scrape: {
      interval: `${intervalS}s`,
      timeout: "10s",
      targets: Array.from({ length: targets }, (_, i) => ({
        url: `http://127.0.0.1:${port}/t/${i}/metrics`,
        job: "fake",
        instance: `fake-${i}`,
        service: `svc-${i % 50}`,
      })),
    },
    series: { max_series: targets * (seriesPerTarget + 2) + 1000 },
  },
};
await writeFile(cfgPath, JSON.stringify(config));
const server = await startServer(cfgPath);
const pid = server.child.pid as number;
let result: Record<string, unknown>;
try {
  progress(`server at ${server.url}; warm-up interval (${intervalS} s) creates the series`);
  await new Promise((r) => setTimeout(r, intervalS * 1000 + 2000));
  const s0 = await metric(server.url, "telemetry_scraped_samples_total");
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  let peakRss = rssMb(pid);
  for (let k = 0; k < intervals; k++) {
    await new Promise((r) => setTimeout(r, intervalS * 1000));
    peakRss = Math.max(peakRss, rssMb(pid));
    progress(`interval ${k + 1}/${intervals}: RSS ${Math.round(peakRss)} MB`);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - c0;
  const samples = (await metric(server.url, "telemetry_scraped_samples_total")) - s0;
  const errors = await metric(server.url, 'telemetry_scrapes_total{result="error"}');
  const held = await metric(server.url, "telemetry_series");
  const expected = (targets * seriesPerTarget * wall) / intervalS;
  progress(
    `${Math.round(samples / wall)} series/s (expected ${Math.round(expected / wall)}), CPU ${(cpu / wall).toFixed(3)} of a core, ${errors} failed scrapes, ${held} series held`,
  );
  result = {
    series_per_s: Math.round(samples / wall),
    cpu_share: Number((cpu / wall).toFixed(4)),
    rss_mb: Math.round(peakRss),
    failed_scrapes: errors,
    series_held: held,
    targets,
    series_per_target: seriesPerTarget,
    interval_s: intervalS,
    measured_s: Number(wall.toFixed(1)),
    // The machine is shared: the 1-minute load average at the end tells how busy it was.
    load_avg_1m: Number(loadavg()[0]?.toFixed(1)),
  };
} finally {
  await server.stop();
  exporter.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
finish("scrape", result);
