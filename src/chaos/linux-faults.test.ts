import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../test/support/ports.js";
import { ChaosEngine } from "./engine.js";
import { experimentSchema, type ExperimentInput } from "./experiment.js";
import { faketimeEnv, findFaketime } from "./faults.js";
import { detectNetCapabilities } from "./netns.js";
import { ChaosState } from "./state.js";

const caps = detectNetCapabilities();
const netSkip = !caps.root ? "not root" : !caps.ip ? caps.missing["ip"] : undefined;
if (netSkip) console.warn(`[novasre tests] network-namespace fault tests skipped: ${netSkip}`);
const fakeSkip = findFaketime() ? undefined : "libfaketime not installed (apt-get install faketime)";
if (fakeSkip) console.warn(`[novasre tests] time-skew tests skipped: ${fakeSkip}`);

let dir: string;
const exp = (e: ExperimentInput) => experimentSchema.parse(e);
const engine = () =>
  new ChaosEngine({ state: new ChaosState(dir), level: "dev", watchdog: false, heartbeatIntervalMs: 100 });

beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), "novasre-linux-"))));
afterAll(() => rm(dir, { recursive: true, force: true }));

const SERVER = `require("http").createServer((q, s) => s.end(Buffer.alloc(Number(q.url.slice(1)) || 2, 97))).listen(Number(process.argv[1]), "127.0.0.1")`;
const CLIENT = `const t = performance.now(); fetch(process.argv[1], { signal: AbortSignal.timeout(Number(process.argv[2])) }).then((r) => r.arrayBuffer()).then((b) => console.log(b.byteLength, Math.round(performance.now() - t)), (e) => { console.log("error", e.name); process.exit(1); })`;

describe.skipIf(!!netSkip)("network faults inside a network namespace", () => {
  const ns = `novasre-t${process.pid}`;
  const port = 18080;
  let server: ChildProcess;
  const client = (bytes: number, timeoutMs: number): { ok: boolean; bytes: number; ms: number } => {
    const r = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        ns,
        process.execPath,
        "-e",
        CLIENT,
        `http://127.0.0.1:${port}/${bytes}`,
        String(timeoutMs),
      ],
      { encoding: "utf8" },
    );
    const [b, ms] = r.stdout.trim().split(" ");
    return { ok: r.status === 0, bytes: Number(b), ms: Number(ms) };
  };
  const probe = (timeoutMs: number) => ({
    name: "reach",
    process: {
      argv: [
        "ip",
        "netns",
        "exec",
        ns,
        process.execPath,
        "-e",
        CLIENT,
        `http://127.0.0.1:${port}/2`,
        String(timeoutMs),
      ],
    },
  });

  beforeAll(async () => {
    spawnSync("ip", ["netns", "add", ns]);
    spawnSync("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    server = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", SERVER, String(port)], {
      stdio: "ignore",
    });
    await waitFor("server in namespace", () => client(2, 1000).ok || undefined, 10_000);
  });
  afterAll(() => {
    server.kill("SIGKILL");
    spawnSync("ip", ["netns", "del", ns]);
  });

  async function cutAndRestore(): Promise<void> {
    for (const fault of [
      { name: "cut", type: "net-partition", namespace: ns, peer: "127.0.0.1" },
      { name: "drop", type: "net-loss", namespace: ns, percent: 100, port },
    ] as const) {
      const j = await engine().run(
        exp({
          title: fault.name,
          steady_state: { probes: [probe(2000)] },
          method: [{ fault }, { probe: probe(700) }],
          recovery_timeout: "5s",
        }),
      );
      expect(j.status, JSON.stringify(j.run)).toBe("completed");
      expect(j.run.find((s) => s.type === "probe")?.status).toBe("failed");
      expect(j.steady_states.after?.met).toBe(true);
      expect(client(2, 1000).ok).toBe(true);
    }
  }

  it.skipIf(!caps.nft && !caps.iptablesStatistic)(
    "partition and 100% loss cut the namespace's traffic; the revert restores it",
    cutAndRestore,
  );

  it.skipIf(!caps.iptablesStatistic)(
    "the iptables fallback does the same and leaves no rule behind",
    async () => {
      process.env["NOVASRE_CHAOS_FIREWALL"] = "iptables";
      try {
        await cutAndRestore();
      } finally {
        delete process.env["NOVASRE_CHAOS_FIREWALL"];
      }
      const rules = spawnSync("ip", ["netns", "exec", ns, "iptables", "-S"], { encoding: "utf8" }).stdout;
      expect(rules).toMatch(/-P INPUT ACCEPT/);
      expect(rules).not.toMatch(/novasre_/);
    },
  );

  it.skipIf(!caps.tbf)(
    "bandwidth (tc tbf) slows a transfer to the rate and the revert removes the qdisc",
    async () => {
      const before = client(500_000, 10_000);
      const e = engine();
      const run = e.run(
        exp({
          title: "tbf",
          method: [
            { fault: { name: "thin", type: "net-bandwidth", namespace: ns, device: "lo", rate: "4mbit" } },
            { wait: "2500ms" },
          ],
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const during = client(500_000, 10_000); // 500 KB at 4 Mbit/s (500 KB/s) takes about 1 s
      const j = await run;
      expect(j.status).toBe("completed");
      expect(during.bytes).toBe(500_000);
      // At least the time the rate allows (less the one-packet bucket); a busy machine only adds to it.
      expect(during.ms).toBeGreaterThan(700);
      expect(before.bytes).toBe(500_000);
      const qd = spawnSync("ip", ["netns", "exec", ns, "tc", "qdisc", "show", "dev", "lo"], {
        encoding: "utf8",
      }).stdout;
      expect(qd).not.toMatch(/tbf/);
    },
  );

  it("refuses a fault the kernel cannot do, naming why, before anything is applied", async () => {
    const j = await engine().run(
      exp({
        title: "netem",
        method: [{ fault: { name: "lag", type: "net-latency", namespace: ns, device: "lo", delay: "50ms" } }],
      }),
    );
    if (caps.netem) expect(j.status).toBe("completed");
    else {
      expect(j.status).toBe("refused");
      expect(j.preflight.find((c) => !c.ok)?.detail).toMatch(/netem.*use a toxic of type latency/);
    }
    const missing = await engine().run(
      exp({
        title: "nons",
        method: [{ fault: { name: "x", type: "net-loss", namespace: "novasre-no-such-ns", percent: 5 } }],
      }),
    );
    expect(missing.preflight.find((c) => !c.ok)?.detail).toMatch(/does not exist/);
  });
});

describe.skipIf(!!fakeSkip)("clock skew through libfaketime", () => {
  it("moves a running child's clock and puts it back on revert", async () => {
    const clock = join(dir, "clock");
    writeFileSync(clock, "+0\n");
    const child = spawn(process.execPath, ["-e", "setInterval(() => console.log(Date.now()), 100)"], {
      env: { ...process.env, ...faketimeEnv(clock) },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let last = 0;
    child.stdout.on("data", (d: Buffer) => (last = Number(d.toString().trim().split("\n").pop())));
    await waitFor("child clock", () => last > 0 || undefined);
    let maxSkew = 0;
    const watch = setInterval(() => (maxSkew = Math.max(maxSkew, last - Date.now())), 50);
    const j = await engine().run(
      exp({
        title: "skew",
        method: [
          {
            fault: { name: "skew", type: "time-skew", clock_file: clock, offset: "+1h", duration: "2500ms" },
          },
        ],
      }),
    );
    clearInterval(watch);
    expect(j.status).toBe("completed");
    expect(maxSkew).toBeGreaterThan(3_500_000);
    await waitFor("clock back", () => Math.abs(last - Date.now()) < 60_000 || undefined, 5000);
    child.kill("SIGKILL");
  });
});
