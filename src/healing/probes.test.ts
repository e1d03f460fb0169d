import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runProbe } from "./probes.js";

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function httpServer(status: { code: number }): Promise<string> {
  const server: Server = createHttpServer((_req, res) => {
    res.statusCode = status.code;
    res.end("hi");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
}

describe("probes", () => {
  it("http: 200-399 pass by default; other statuses and refused connections fail", async () => {
    const status = { code: 200 };
    const url = await httpServer(status);
    expect(await runProbe({ kind: "http", url }, 1_000)).toEqual({ ok: true });
    status.code = 302;
    expect(await runProbe({ kind: "http", url }, 1_000)).toEqual({ ok: true });
    status.code = 503;
    expect(await runProbe({ kind: "http", url }, 1_000)).toEqual({
      ok: false,
      message: `GET ${url}: status 503`,
    });
    expect(await runProbe({ kind: "http", url, expectStatus: [503] }, 1_000)).toEqual({ ok: true });
    await closers.pop()?.();
    const r = await runProbe({ kind: "http", url }, 1_000);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.message).toContain("ECONNREFUSED");
  });

  it("http: a server that never answers fails at the timeout", async () => {
    const server = createHttpServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    expect(await runProbe({ kind: "http", url }, 100)).toEqual({
      ok: false,
      message: `GET ${url}: no response within 100ms`,
    });
  });

  it("tcp: passes when something listens, fails when not", async () => {
    const server = createTcpServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    expect(await runProbe({ kind: "tcp", host: "127.0.0.1", port }, 1_000)).toEqual({ ok: true });
    await new Promise<void>((r) => server.close(() => r()));
    expect(await runProbe({ kind: "tcp", host: "127.0.0.1", port }, 1_000)).toEqual({
      ok: false,
      message: `tcp 127.0.0.1:${port}: ECONNREFUSED`,
    });
  });

  it.runIf(process.platform === "linux")(
    "process: running passes; stopped, exited or absent fails",
    async () => {
      const child: ChildProcess = spawn("sleep", ["30"], { stdio: "ignore" });
      closers.push(() => void child.kill("SIGKILL"));
      await new Promise((r) => child.once("spawn", r));
      const pid = child.pid as number;
      expect(await runProbe({ kind: "process", pid: () => pid }, 1_000)).toEqual({ ok: true });
      child.kill("SIGSTOP");
      await waitFor(async () => (await runProbe({ kind: "process", pid: () => pid }, 1_000)).ok === false);
      expect(await runProbe({ kind: "process", pid: () => pid }, 1_000)).toEqual({
        ok: false,
        message: `process ${pid} is stopped`,
      });
      child.kill("SIGCONT");
      await waitFor(async () => (await runProbe({ kind: "process", pid: () => pid }, 1_000)).ok);
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      expect((await runProbe({ kind: "process", pid: () => pid }, 1_000)).ok).toBe(false);
      expect(await runProbe({ kind: "process", pid: () => undefined }, 1_000)).toEqual({
        ok: false,
        message: "no process",
      });
    },
  );

  it("command: exit 0 passes, non-zero fails, a slow one is killed at the timeout", async () => {
    expect(await runProbe({ kind: "command", argv: ["true"] }, 1_000)).toEqual({ ok: true });
    expect(await runProbe({ kind: "command", argv: ["false"] }, 1_000)).toEqual({
      ok: false,
      message: "false: exit 1",
    });
    expect(await runProbe({ kind: "command", argv: ["sleep", "10"] }, 100)).toEqual({
      ok: false,
      message: "sleep: killed after 100ms",
    });
    const missing = await runProbe({ kind: "command", argv: ["/nonexistent/novasre-probe"] }, 1_000);
    expect(missing.ok).toBe(false);
  });

  it("metric: fails when the breach condition holds; absence follows whenAbsent", async () => {
    let v: number | undefined = 0.1;
    const spec = { kind: "metric" as const, read: () => v, op: ">" as const, threshold: 0.2 };
    expect(await runProbe(spec, 1_000)).toEqual({ ok: true });
    v = 0.3;
    expect(await runProbe(spec, 1_000)).toEqual({ ok: false, message: "metric 0.3 > 0.2" });
    v = 0.2;
    expect(await runProbe({ ...spec, op: ">=" }, 1_000)).toEqual({ ok: false, message: "metric 0.2 >= 0.2" });
    expect(await runProbe({ ...spec, op: "<" }, 1_000)).toEqual({ ok: true });
    expect(await runProbe({ ...spec, op: "<=" }, 1_000)).toEqual({ ok: false, message: "metric 0.2 <= 0.2" });
    v = undefined;
    expect(await runProbe(spec, 1_000)).toEqual({ ok: true });
    expect(await runProbe({ ...spec, whenAbsent: "fail" }, 1_000)).toEqual({
      ok: false,
      message: "metric absent",
    });
  });
});

/** Signals are delivered asynchronously: poll until the kernel shows the new state. */
async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
}
