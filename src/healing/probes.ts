import { spawn } from "node:child_process";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import type { ProbeOutcome, ProbeSpec } from "./types.js";

const fail = (message: string): ProbeOutcome => ({ ok: false, message });
const OK: ProbeOutcome = { ok: true };

/** Runs one probe once; never throws, and gives up at `timeoutMs`. */
export async function runProbe(spec: ProbeSpec, timeoutMs: number): Promise<ProbeOutcome> {
  try {
    switch (spec.kind) {
      case "http":
        return await httpProbe(spec.url, spec.expectStatus, timeoutMs);
      case "tcp":
        return await tcpProbe(spec.host, spec.port, timeoutMs);
      case "process":
        return await processProbe(spec.pid());
      case "command":
        return await commandProbe(spec.argv, spec.cwd, timeoutMs);
      case "metric":
        return metricProbe(spec);
    }
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** A fresh connection per probe, as the kubelet does: a pooled socket would hide a restarted server. */
function httpProbe(url: string, expect: number[] | undefined, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const get = u.protocol === "https:" ? httpsGet : httpGet;
    let settled = false;
    const done = (r: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    const req = get(u, { agent: false, headers: { "user-agent": "novasre-healing" } }, (res) => {
      const status = res.statusCode ?? 0;
      // The body is not needed: dropping it releases the socket.
      res.resume();
      const passed = expect ? expect.includes(status) : status >= 200 && status < 400;
      done(passed ? OK : fail(`GET ${url}: status ${status}`));
    });
    const timer = setTimeout(() => done(fail(`GET ${url}: no response within ${timeoutMs}ms`)), timeoutMs);
    req.once("error", (err: NodeJS.ErrnoException) => done(fail(`GET ${url}: ${err.code ?? err.message}`)));
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (r: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done(fail(`tcp ${host}:${port}: no connection within ${timeoutMs}ms`)),
      timeoutMs,
    );
    socket.once("connect", () => done(OK));
    socket.once("error", (err: NodeJS.ErrnoException) =>
      done(fail(`tcp ${host}:${port}: ${err.code ?? err.message}`)),
    );
  });
}

/** Linux /proc/<pid>/stat: the state letter follows the parenthesised command name, which may contain spaces. */
async function processProbe(pid: number | undefined): Promise<ProbeOutcome> {
  if (pid === undefined) return fail("no process");
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    if (process.platform !== "linux") return signalZero(pid);
    return fail(`process ${pid} does not exist`);
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  if (state === "T" || state === "t") return fail(`process ${pid} is stopped`);
  if (state === "Z" || state === "X") return fail(`process ${pid} is a zombie`);
  return OK;
}

/** Without /proc only existence can be checked. */
function signalZero(pid: number): ProbeOutcome {
  try {
    process.kill(pid, 0);
    return OK;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? OK : fail(`process ${pid} does not exist`);
  }
}

function commandProbe(argv: string[], cwd: string | undefined, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) return resolve(fail("empty command"));
    let stderr = "";
    let timedOut = false;
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", (d: Buffer) => {
      // Only the start of stderr goes into the failure message.
      if (stderr.length < 200) stderr += d.toString("utf8");
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve(fail(`${cmd}: ${err.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return resolve(fail(`${cmd}: killed after ${timeoutMs}ms`));
      if (code === 0) return resolve(OK);
      const why = signal ? `signal ${signal}` : `exit ${code}`;
      resolve(fail(`${cmd}: ${why}${stderr.trim() ? `: ${stderr.trim().slice(0, 200)}` : ""}`));
    });
  });
}

function metricProbe(spec: Extract<ProbeSpec, { kind: "metric" }>): ProbeOutcome {
  const v = spec.read();
  if (v === undefined || Number.isNaN(v))
    return (spec.whenAbsent ?? "ok") === "ok" ? OK : fail("metric absent");
  const breach =
    spec.op === ">"
      ? v > spec.threshold
      : spec.op === ">="
        ? v >= spec.threshold
        : spec.op === "<"
          ? v < spec.threshold
          : v <= spec.threshold;
  return breach ? fail(`metric ${v} ${spec.op} ${spec.threshold}`) : OK;
}
