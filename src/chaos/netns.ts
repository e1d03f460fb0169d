import { spawnSync } from "node:child_process";

export interface NetCapabilities {
  root: boolean;
  ip: boolean;
  tbf: boolean;
  netem: boolean;
  nft: boolean;
  iptablesStatistic: boolean;
  /** Why a capability is missing, by name, for refusal messages. */
  missing: Record<string, string>;
}

function run(argv: string[]): { ok: boolean; err: string } {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd as string, args, { encoding: "utf8", timeout: 5000 });
  return { ok: r.status === 0, err: (r.error?.message ?? r.stderr ?? "").trim().split("\n")[0] ?? "" };
}

let cached: NetCapabilities | undefined;

/**
 * Finds what the kernel and tools offer by trying each in a throwaway network namespace, so nothing on
 * the host changes. Cached for the process.
 */
export function detectNetCapabilities(refresh = false): NetCapabilities {
  if (cached && !refresh) return cached;
  const missing: Record<string, string> = {};
  const root = process.getuid?.() === 0;
  const caps: NetCapabilities = {
    root,
    ip: false,
    tbf: false,
    netem: false,
    nft: false,
    iptablesStatistic: false,
    missing,
  };
  if (!root) {
    for (const k of ["ip", "tbf", "netem", "nft", "iptablesStatistic"]) missing[k] = "needs root";
    return (cached = caps);
  }
  const ns = `novasre-probe-${process.pid}`;
  const add = run(["ip", "netns", "add", ns]);
  if (!add.ok) {
    for (const k of ["ip", "tbf", "netem", "nft", "iptablesStatistic"])
      missing[k] = `ip netns add failed: ${add.err}`;
    return (cached = caps);
  }
  try {
    caps.ip = true;
    const inNs = (argv: string[]) => run(["ip", "netns", "exec", ns, ...argv]);
    inNs(["ip", "link", "set", "lo", "up"]);
    const tbf = inNs([
      "tc",
      "qdisc",
      "add",
      "dev",
      "lo",
      "root",
      "tbf",
      "rate",
      "1mbit",
      "burst",
      "32kbit",
      "latency",
      "50ms",
    ]);
    caps.tbf = tbf.ok;
    if (!tbf.ok) missing["tbf"] = `tc tbf: ${tbf.err}`;
    inNs(["tc", "qdisc", "del", "dev", "lo", "root"]);
    const netem = inNs(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]);
    caps.netem = netem.ok;
    if (!netem.ok) missing["netem"] = `tc netem: ${netem.err || "sch_netem not available in this kernel"}`;
    inNs(["tc", "qdisc", "del", "dev", "lo", "root"]);
    const nft = inNs(["nft", "add table inet novasre_probe; delete table inet novasre_probe"]);
    caps.nft = nft.ok;
    if (!nft.ok) missing["nft"] = `nft: ${nft.err || "not installed (Debian package nftables)"}`;
    const ipt = inNs([
      "iptables",
      "-A",
      "INPUT",
      "-m",
      "statistic",
      "--mode",
      "random",
      "--probability",
      "0.5",
      "-j",
      "ACCEPT",
    ]);
    caps.iptablesStatistic = ipt.ok;
    if (!ipt.ok)
      missing["iptablesStatistic"] =
        `iptables statistic: ${ipt.err || "not installed (Debian package iptables)"}`;
  } finally {
    run(["ip", "netns", "del", ns]);
  }
  return (cached = caps);
}

export function namespaceExists(ns: string): boolean {
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.split("\n").some((l) => l.split(" ")[0] === ns);
}
