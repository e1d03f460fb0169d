import { readdirSync, readFileSync } from "node:fs";

export interface ProcessInfo {
  pid: number;
  cmdline: string;
}

/** Processes on this machine (Linux /proc), minus this one and its parent. */
export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid || pid === process.ppid) continue;
    try {
      const cmdline = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
      if (cmdline) out.push({ pid, cmdline });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

export interface ProcessSelector {
  pid?: number | undefined;
  pidfile?: string | undefined;
  /** Regular expression over the command line. */
  pattern?: string | undefined;
  /** Pick at most this many of the matches. */
  count?: number | undefined;
  /** Pick this share (0-1] of the matches, rounded up. */
  share?: number | undefined;
}

export interface Selection {
  candidates: number;
  pids: number[];
  describe: string;
}

/** Resolves a selector to pids: all candidates, then a deterministic subset (lowest pids first). */
export function selectProcesses(sel: ProcessSelector, list: () => ProcessInfo[] = listProcesses): Selection {
  let candidates: number[];
  let describe: string;
  if (sel.pid !== undefined) {
    candidates = list().some((p) => p.pid === sel.pid) ? [sel.pid] : [];
    describe = `pid ${sel.pid}`;
  } else if (sel.pidfile !== undefined) {
    let pid = NaN;
    try {
      pid = Number(readFileSync(sel.pidfile, "utf8").trim());
    } catch {
      // missing pidfile: no candidates
    }
    candidates = Number.isInteger(pid) && list().some((p) => p.pid === pid) ? [pid] : [];
    describe = `pidfile ${sel.pidfile}`;
  } else {
    const re = new RegExp(sel.pattern ?? "(?!)");
    candidates = list()
      .filter((p) => re.test(p.cmdline))
      .map((p) => p.pid)
      .sort((a, b) => a - b);
    describe = `processes matching /${sel.pattern}/`;
  }
  let n = candidates.length;
  if (sel.share !== undefined) n = Math.min(n, Math.ceil(candidates.length * sel.share));
  if (sel.count !== undefined) n = Math.min(n, sel.count);
  return { candidates: candidates.length, pids: candidates.slice(0, n), describe };
}
