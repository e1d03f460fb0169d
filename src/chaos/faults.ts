import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { newId } from "../core/index.js";
import { describeAction, processStartTime, type Action } from "./actions.js";
import type { FaultSpec } from "./experiment.js";
import { detectNetCapabilities, namespaceExists } from "./netns.js";
import { parseToxic } from "./toxics.js";
import { selectProcesses } from "./targets.js";

/** Paths searched for libfaketime (Debian package faketime). */
export const FAKETIME_LIBS = [
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
  "/usr/lib/faketime/libfaketime.so.1",
];
export const STRESS_NG_PATHS = ["/usr/bin/stress-ng", "/usr/local/bin/stress-ng"];
/** tc tbf queue bound used for bandwidth faults. */
const TBF_LATENCY = "400ms";
/** Smallest tbf bucket, bytes; the bucket must also hold one full packet (MTU) or tbf drops it. */
const TBF_MIN_BURST_BYTES = 4096;

/** The device's MTU inside the namespace (loopback's is 64 KiB), for sizing the tbf bucket. */
function deviceMtu(ns: string, device: string): number {
  const r = spawnSync("ip", ["netns", "exec", ns, "cat", `/sys/class/net/${device}/mtu`], {
    encoding: "utf8",
  });
  const mtu = Number(r.stdout.trim());
  return Number.isInteger(mtu) && mtu > 0 ? mtu : 1500;
}

export function findFaketime(): string | undefined {
  return FAKETIME_LIBS.find((p) => existsSync(p));
}
export function findStressNg(): string | undefined {
  return process.env["NOVASRE_NO_STRESS_NG"] ? undefined : STRESS_NG_PATHS.find((p) => existsSync(p));
}

/** A fault resolved against the machine: its targets and the exact actions that apply and revert it. */
export interface PlannedFault {
  id: string;
  name: string;
  type: FaultSpec["type"];
  targets: string[];
  /** How many targets the selector could have hit (for the share of the blast radius). */
  candidates: number;
  apply: Action[];
  /** Runs when the fault ends, in order; written to the ledger before `apply` runs. */
  revert: Action[];
  durationMs?: number;
  /** Set when this machine cannot do it; the run is refused before anything is applied. */
  refusal?: string;
}

export interface PlanContext {
  /** URL of the proxy API serving the experiment's own proxies (started by the engine). */
  localProxyApi?: string;
  /** Heartbeat file the built-in workers watch (dead-man's switch). */
  heartbeatPath: string;
  heartbeatStaleMs: number;
  /** Directory where the engine runs; relative disk-fill paths resolve against it. */
  cwd?: string;
}

/** Node source of the built-in resource worker (CPU duty cycle or memory hold); exits when the heartbeat stops. */
const WORKER_SOURCE = `
const fs = require("fs");
const [, marker, kind, amount, hb, stale] = process.argv;
const alive = () => { try { return Date.now() - fs.statSync(hb).mtimeMs <= Number(stale); } catch { return false; } };
setInterval(() => { if (!alive()) process.exit(0); }, 250);
if (kind === "cpu") {
  const busy = Number(amount);
  const spin = () => { const end = Date.now() + busy; while (Date.now() < end) {} setTimeout(spin, 100 - busy); };
  spin();
} else {
  const keep = [];
  for (let i = 0; i < Number(amount); i++) { const b = Buffer.allocUnsafe(1 << 20); b.fill(i & 255); keep.push(b); }
  globalThis.keep = keep;
}
`;

function workerSpawn(marker: string, kind: "cpu" | "mem", amount: number, ctx: PlanContext): Action {
  return {
    kind: "spawn",
    marker,
    env: { NOVASRE_FAULT: marker },
    argv: [
      process.execPath,
      "-e",
      WORKER_SOURCE,
      marker,
      kind,
      String(amount),
      ctx.heartbeatPath,
      String(ctx.heartbeatStaleMs),
    ],
  };
}

function nsExec(ns: string, argv: string[]): string[] {
  return ["ip", "netns", "exec", ns, ...argv];
}

function netRefusal(spec: Extract<FaultSpec, { namespace: string }>): string | undefined {
  const caps = detectNetCapabilities();
  if (!caps.root) return `${spec.type} needs root (network namespaces, tc, nftables)`;
  if (!namespaceExists(spec.namespace))
    return `network namespace ${spec.namespace} does not exist (faults run only inside namespaces: ip netns add ${spec.namespace})`;
  if (spec.type === "net-bandwidth" && !caps.tbf) return `net-bandwidth: ${caps.missing["tbf"]}`;
  if (spec.type === "net-latency" && !caps.netem)
    return `net-latency: ${caps.missing["netem"]}; use a toxic of type latency on a TCP proxy instead`;
  if ((spec.type === "net-loss" || spec.type === "net-partition") && !caps.nft && !caps.iptablesStatistic)
    return `${spec.type}: neither nftables nor iptables with the statistic match works here (${caps.missing["nft"]}; ${caps.missing["iptablesStatistic"]})`;
  return undefined;
}

/** Turns a fault spec into the exact actions for this machine, without changing anything. */
export function planFault(spec: FaultSpec, ctx: PlanContext, now = Date.now()): PlannedFault {
  const id = newId("flt", now);
  const marker = `novasre-fault=${id}`;
  const base = {
    id,
    name: spec.name,
    type: spec.type,
    ...(spec.duration !== undefined ? { durationMs: spec.duration } : {}),
  };
  switch (spec.type) {
    case "toxic": {
      const api = spec.api ?? ctx.localProxyApi;
      const toxic = parseToxic({ ...spec.toxic, name: spec.toxic.name ?? `${spec.name}` });
      if (!api)
        return {
          ...base,
          targets: [spec.proxy],
          candidates: 1,
          apply: [],
          revert: [],
          refusal: `proxy ${spec.proxy}: no proxy API (set api, or declare it under proxies)`,
        };
      const url = `${api.replace(/\/$/, "")}/proxies/${encodeURIComponent(spec.proxy)}/toxics`;
      return {
        ...base,
        targets: [`proxy:${spec.proxy}`],
        candidates: 1,
        apply: [{ kind: "http", method: "POST", url, body: toxic }],
        revert: [{ kind: "http", method: "DELETE", url: `${url}/${encodeURIComponent(toxic.name)}` }],
      };
    }
    case "process-kill":
    case "process-pause":
    case "process-restart": {
      const sel = selectProcesses(spec.target);
      const stamp = (pid: number) => {
        const st = processStartTime(pid);
        return st === undefined ? {} : { startTime: st };
      };
      const targets = sel.pids.map((p) => `pid:${p}`);
      const refusal = sel.pids.length ? undefined : `${spec.name}: no process matches ${sel.describe}`;
      if (spec.type === "process-pause")
        return {
          ...base,
          targets,
          candidates: sel.candidates,
          apply: sel.pids.map((pid) => ({ kind: "signal", pid, signal: "SIGSTOP", ...stamp(pid) })),
          revert: sel.pids.map((pid) => ({ kind: "signal", pid, signal: "SIGCONT", ...stamp(pid) })),
          ...(refusal ? { refusal } : {}),
        };
      const apply: Action[] = sel.pids.map((pid) => ({
        kind: "signal",
        pid,
        signal: spec.signal,
        ...stamp(pid),
      }));
      if (spec.type === "process-restart" && spec.command)
        apply.push(
          { kind: "exec", argv: ["sleep", String(spec.grace / 1000)] },
          {
            kind: "spawn",
            argv: spec.command,
            marker: `novasre-restart=${id}`,
            env: { NOVASRE_FAULT: `novasre-restart=${id}` },
          },
        );
      return {
        ...base,
        targets,
        candidates: sel.candidates,
        apply,
        revert: [],
        ...(refusal ? { refusal } : {}),
      };
    }
    case "cpu": {
      const stress = findStressNg();
      const apply: Action[] = stress
        ? [
            {
              kind: "spawn",
              marker,
              // stress-ng does not watch our heartbeat; its own timeout bounds it if every other revert fails.
              argv: [
                stress,
                "--cpu",
                String(spec.workers),
                "--cpu-load",
                String(spec.load_pct),
                "--timeout",
                `${Math.ceil((spec.duration ?? 3_600_000) / 1000) + 60}s`,
                "--quiet",
              ],
              env: { NOVASRE_FAULT: marker },
            },
          ]
        : Array.from({ length: spec.workers }, () => workerSpawn(marker, "cpu", spec.load_pct, ctx));
      return {
        ...base,
        targets: ["host:cpu"],
        candidates: 1,
        apply,
        revert: [{ kind: "kill-marker", marker, signal: "SIGKILL" }],
      };
    }
    case "memory":
      return {
        ...base,
        targets: ["host:memory"],
        candidates: 1,
        apply: [workerSpawn(marker, "mem", spec.mb, ctx)],
        revert: [{ kind: "kill-marker", marker, signal: "SIGKILL" }],
      };
    case "disk-fill": {
      const path = join(
        spec.path.startsWith("/") ? spec.path : join(ctx.cwd ?? process.cwd(), spec.path),
        `novasre-fill-${id}.bin`,
      );
      return {
        ...base,
        targets: [`disk:${spec.path}`],
        candidates: 1,
        apply: [{ kind: "fill-file", path, bytes: spec.mb * 1024 * 1024 }],
        revert: [{ kind: "unlink", path }],
      };
    }
    case "net-loss":
    case "net-partition": {
      const refusal = netRefusal(spec);
      const caps = detectNetCapabilities();
      const table = `novasre_${id.slice(4, 20)}`;
      let apply: Action[];
      let revert: Action[];
      const match =
        spec.type === "net-loss"
          ? // numgen draws in [0, 10000): a resolution of 0.01%; 100% is a plain drop.
            `${spec.port ? `tcp dport ${spec.port} ` : ""}${spec.percent >= 100 ? "" : `numgen random mod 10000 < ${Math.round(spec.percent * 100)} `}drop`
          : undefined;
      // nftables when it works, else iptables; NOVASRE_CHAOS_FIREWALL=iptables forces the latter.
      const useNft =
        process.env["NOVASRE_CHAOS_FIREWALL"] === "iptables" ? false : caps.nft || !caps.iptablesStatistic;
      if (useNft) {
        const rules =
          spec.type === "net-loss"
            ? `add rule inet ${table} in ${match}`
            : `add rule inet ${table} in ip saddr ${spec.peer} drop; add rule inet ${table} out ip daddr ${spec.peer} drop`;
        apply = [
          {
            kind: "exec",
            argv: nsExec(spec.namespace, [
              "nft",
              `add table inet ${table}; add chain inet ${table} in { type filter hook input priority 0 ; }; add chain inet ${table} out { type filter hook output priority 0 ; }; ${rules}`,
            ]),
          },
        ];
        revert = [
          {
            kind: "exec",
            argv: nsExec(spec.namespace, ["nft", `delete table inet ${table}`]),
            ignoreFailure: true,
          },
        ];
      } else {
        const comment = ["-m", "comment", "--comment", table];
        const rules: string[][] =
          spec.type === "net-loss"
            ? [
                [
                  "INPUT",
                  ...(spec.port ? ["-p", "tcp", "--dport", String(spec.port)] : []),
                  "-m",
                  "statistic",
                  "--mode",
                  "random",
                  "--probability",
                  String(spec.percent / 100),
                  ...comment,
                  "-j",
                  "DROP",
                ],
              ]
            : [
                ["INPUT", "-s", spec.peer, ...comment, "-j", "DROP"],
                ["OUTPUT", "-d", spec.peer, ...comment, "-j", "DROP"],
              ];
        apply = rules.map((r) => ({ kind: "exec", argv: nsExec(spec.namespace, ["iptables", "-I", ...r]) }));
        revert = rules.map((r) => ({
          kind: "exec",
          argv: nsExec(spec.namespace, ["iptables", "-D", ...r]),
          ignoreFailure: true,
        }));
      }
      return {
        ...base,
        targets: [`netns:${spec.namespace}`],
        candidates: 1,
        apply,
        revert,
        ...(refusal ? { refusal } : {}),
      };
    }
    case "net-bandwidth":
    case "net-latency": {
      const refusal = netRefusal(spec);
      const qdisc =
        spec.type === "net-bandwidth"
          ? [
              "tbf",
              "rate",
              spec.rate,
              "burst",
              `${Math.max(TBF_MIN_BURST_BYTES, refusal ? 1500 : deviceMtu(spec.namespace, spec.device) + 100)}b`,
              "latency",
              TBF_LATENCY,
            ]
          : ["netem", "delay", `${spec.delay}ms`];
      return {
        ...base,
        targets: [`netns:${spec.namespace}/${spec.device}`],
        candidates: 1,
        apply: [
          {
            kind: "exec",
            argv: nsExec(spec.namespace, ["tc", "qdisc", "add", "dev", spec.device, "root", ...qdisc]),
          },
        ],
        revert: [
          {
            kind: "exec",
            argv: nsExec(spec.namespace, ["tc", "qdisc", "del", "dev", spec.device, "root"]),
            ignoreFailure: true,
          },
        ],
        ...(refusal ? { refusal } : {}),
      };
    }
    case "time-skew": {
      const lib = findFaketime();
      const refusal = !lib
        ? "time-skew needs libfaketime (Debian package faketime)"
        : !existsSync(spec.clock_file)
          ? `clock file ${spec.clock_file} does not exist (start the target with novasre chaos exec --clock-file)`
          : undefined;
      return {
        ...base,
        targets: [`clock:${spec.clock_file}`],
        candidates: 1,
        apply: [{ kind: "write-file", path: spec.clock_file, content: `${spec.offset}\n` }],
        revert: [{ kind: "write-file", path: spec.clock_file, content: "+0\n" }],
        ...(refusal ? { refusal } : {}),
      };
    }
  }
}

export function describePlan(f: PlannedFault): string[] {
  return [
    `fault ${f.name} (${f.type}) on ${f.targets.join(", ") || "nothing"}${f.durationMs !== undefined ? ` for ${f.durationMs}ms` : ""}`,
    ...f.apply.map((a) => `  apply:  ${describeAction(a)}`),
    ...f.revert.map((a) => `  revert: ${describeAction(a)}`),
    ...(f.refusal ? [`  REFUSED: ${f.refusal}`] : []),
  ];
}

/** Environment for a process whose clock a time-skew fault may move later (libfaketime, re-read each second). */
export function faketimeEnv(clockFile: string): Record<string, string> | undefined {
  const lib = findFaketime();
  if (!lib) return undefined;
  // Only the wall clock moves: a faked monotonic clock going back would freeze the target's timers.
  return {
    LD_PRELOAD: lib,
    FAKETIME_TIMESTAMP_FILE: clockFile,
    FAKETIME_CACHE_DURATION: "1",
    FAKETIME_DONT_RESET: "1",
    DONT_FAKE_MONOTONIC: "1",
  };
}
