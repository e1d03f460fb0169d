import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAction } from "./actions.js";

let server: Server;
let base: string;
const seen: { method: string; url: string; type: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", type: req.headers["content-type"], body });
      if (req.url === "/missing") return void res.writeHead(404).end("no such toxic");
      if (req.url === "/broken") return void res.writeHead(500).end("boom");
      if (req.url === "/slow") return void setTimeout(() => res.end("late"), 3000);
      res.writeHead(201).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("http action", () => {
  it("sends the body as JSON with the headers given", async () => {
    const r = await runAction({
      kind: "http",
      method: "POST",
      url: `${base}/toxics`,
      body: { name: "lat", latency: 5 },
      headers: { "x-extra": "1" },
    });
    expect(r.status).toBe("ok");
    const last = seen.at(-1);
    expect(last).toMatchObject({ method: "POST", url: "/toxics", type: "application/json" });
    expect(JSON.parse(last?.body ?? "")).toEqual({ name: "lat", latency: 5 });
  });

  it("a revert of something already gone succeeds: 404 on DELETE, or the proxy not listening", async () => {
    expect((await runAction({ kind: "http", method: "DELETE", url: `${base}/missing` })).status).toBe("ok");
    const port = await closedPort();
    const gone = await runAction({ kind: "http", method: "DELETE", url: `http://127.0.0.1:${port}/t` });
    expect(gone).toMatchObject({ status: "ok", value: "proxy gone" });
    // An apply to a proxy that is not there is a failure, not a success.
    const apply = await runAction({ kind: "http", method: "POST", url: `http://127.0.0.1:${port}/t` });
    expect(apply.status).toBe("error");
  });

  it("fails on a server error (retryable) and on a 404 that is not a DELETE", async () => {
    const broken = await runAction({ kind: "http", method: "POST", url: `${base}/broken` });
    expect(broken).toMatchObject({ status: "error", retryable: true });
    if (broken.status === "error") expect(broken.error).toMatch(/500 boom/);
    const missing = await runAction({ kind: "http", method: "POST", url: `${base}/missing` });
    expect(missing).toMatchObject({ status: "error", retryable: false });
  });

  it("gives up after the timeout", async () => {
    const t0 = performance.now();
    const r = await runAction({ kind: "http", method: "GET", url: `${base}/slow` }, 150);
    expect(r.status).toBe("error");
    if (r.status === "error") expect(r.error).toMatch(/no answer within 150 ms/);
    expect(performance.now() - t0).toBeLessThan(2500);
  });
});
