import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpliceAddon, ProxyManager, TcpFaultProxy } from "./proxy.js";
import { startProxyApi, type ProxyApi } from "./proxy-api.js";
import { parseToxic } from "./toxics.js";

let echo: Server;
let echoPort: number;
let sink: Server;
let sinkPort: number;
let stream: Server;
let streamPort: number;
let http: HttpServer;
let httpPort: number;
const manager = new ProxyManager();

function listen(s: Server | HttpServer): Promise<number> {
  return new Promise((r) => s.listen(0, "127.0.0.1", () => r((s.address() as { port: number }).port)));
}

beforeAll(async () => {
  echo = createServer((s) => {
    s.on("error", () => undefined); // the proxy resets some connections on purpose
    s.pipe(s);
  });
  echoPort = await listen(echo);
  // Sends N bytes on request "N\n" then closes.
  sink = createServer((s) =>
    s
      .on("error", () => undefined)
      .once("data", (d) => {
        s.end(Buffer.alloc(Number(d.toString().trim()), 0x61));
      }),
  );
  sinkPort = await listen(sink);
  // Streams bytes i % 251 (i counting from the connection's start) until the client goes away.
  stream = createServer((s) => {
    s.on("error", () => undefined);
    let i = 0;
    const pump = () => {
      while (!s.destroyed) {
        const chunk = Buffer.allocUnsafe(65536);
        for (let j = 0; j < chunk.length; j++) chunk[j] = (i + j) % 251;
        i += chunk.length;
        if (!s.write(chunk)) return void s.once("drain", pump);
      }
    };
    pump();
  });
  streamPort = await listen(stream);
  http = createHttpServer((req, res) => res.end(`hello ${req.url}`));
  httpPort = await listen(http);
});
afterAll(async () => {
  await manager.close();
  echo.close();
  sink.close();
  stream.close();
  http.close();
});

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Sends a request and collects everything until the peer closes (or errors). */
function fetchBytes(port: number, request: string): Promise<{ bytes: number; ms: number; error?: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let bytes = 0;
    const s = createConnection({ host: "127.0.0.1", port }, () => s.write(request));
    s.on("data", (d: Buffer) => (bytes += d.length));
    s.once("error", (e: NodeJS.ErrnoException) =>
      resolve({ bytes, ms: performance.now() - t0, error: e.code ?? e.message }),
    );
    s.once("close", () => resolve({ bytes, ms: performance.now() - t0 }));
  });
}

/** The fastest of three round trips: robust to a loaded machine's occasional stalls. */
async function fastest(s: Socket, msg: string): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) best = Math.min(best, await roundTrip(s, `${msg}${i}`));
  return best;
}

async function roundTrip(s: Socket, msg: string): Promise<number> {
  const t0 = performance.now();
  s.write(msg);
  await new Promise<void>((r) => {
    let got = "";
    const on = (d: Buffer) => {
      got += d.toString();
      if (got.length >= msg.length) {
        s.off("data", on);
        r();
      }
    };
    s.on("data", on);
  });
  return performance.now() - t0;
}

describe("TCP fault proxy", () => {
  it("forwards cleanly without toxics and delays by the latency toxic, on open connections too", async () => {
    const p = await manager.create({
      name: "echo",
      listen: "127.0.0.1:0",
      upstream: `127.0.0.1:${echoPort}`,
    });
    const port = Number(p.address.split(":")[1]);
    const s = await connect(port);
    const clean = await fastest(s, "ping");
    expect(clean).toBeLessThan(145);
    p.addToxic(parseToxic({ type: "latency", stream: "downstream", attributes: { latency: 150 } }));
    const slow = await roundTrip(s, "ping2");
    expect(slow).toBeGreaterThanOrEqual(145);
    p.removeToxic("latency_downstream");
    expect(await fastest(s, "ping3")).toBeLessThan(145);
    s.destroy();
  });

  it("a toxic added mid-stream to a connection on the fast path takes effect; removing it restores speed", async () => {
    const p = await manager.create({
      name: "stream",
      listen: "127.0.0.1:0",
      upstream: `127.0.0.1:${streamPort}`,
    });
    const s = await connect(Number(p.address.split(":")[1]));
    let got = 0;
    let corrupt = -1;
    s.on("data", (d: Buffer) => {
      for (let j = 0; j < d.length; j++) if (corrupt < 0 && d[j] !== (got + j) % 251) corrupt = got + j;
      got += d.length;
    });
    const until = async (cond: () => boolean) => {
      while (!cond()) await new Promise((r) => setTimeout(r, 5));
    };
    await until(() => got >= 8 * 1024 * 1024);
    p.addToxic(parseToxic({ type: "bandwidth", attributes: { rate: 50 } })); // 50 KB/s
    // Bytes already handed to the client socket still arrive at full speed; let them through first.
    await new Promise((r) => setTimeout(r, 500));
    const before = got;
    await new Promise((r) => setTimeout(r, 500));
    expect(got - before).toBeLessThan(100_000); // about 25 KB in 500 ms; megabytes without the toxic
    p.removeToxic("bandwidth_downstream");
    const after = got;
    await until(() => got >= after + 8 * 1024 * 1024); // at 50 KB/s this would outlast the test timeout
    expect(corrupt).toBe(-1); // every byte in order across both switches
    s.destroy();
  });

  it("limit_data closes after the given bytes; bandwidth slows a transfer to the rate", async () => {
    const p = await manager.create({
      name: "sink",
      listen: "127.0.0.1:0",
      upstream: `127.0.0.1:${sinkPort}`,
    });
    const port = Number(p.address.split(":")[1]);
    p.addToxic(parseToxic({ type: "limit_data", attributes: { bytes: 1000 } }));
    const limited = await fetchBytes(port, "50000\n");
    expect(limited.bytes).toBe(1000);
    p.reset();
    p.addToxic(parseToxic({ type: "bandwidth", attributes: { rate: 100 } })); // 100 KB/s
    const slow = await fetchBytes(port, "50000\n");
    expect(slow.bytes).toBe(50000);
    expect(slow.ms).toBeGreaterThan(400); // 50 KB at 100 KB/s is 500 ms
    p.reset();
  });

  it("reset_peer resets the connection; timeout holds data back; slicer delivers everything", async () => {
    const p = await manager.create({
      name: "sink2",
      listen: "127.0.0.1:0",
      upstream: `127.0.0.1:${sinkPort}`,
    });
    const port = Number(p.address.split(":")[1]);
    p.addToxic(parseToxic({ type: "reset_peer", attributes: { timeout: 0 } }));
    const reset = await fetchBytes(port, "100\n");
    expect(reset.error).toBe("ECONNRESET");
    p.reset();
    p.addToxic(parseToxic({ type: "timeout", attributes: { timeout: 200 } }));
    const held = await fetchBytes(port, "100\n");
    expect(held.bytes).toBe(0);
    expect(held.ms).toBeGreaterThanOrEqual(190);
    p.reset();
    p.addToxic(
      parseToxic({ type: "slicer", attributes: { average_size: 10, size_variation: 5, delay: 100 } }),
    );
    const sliced = await fetchBytes(port, "5000\n");
    expect(sliced.bytes).toBe(5000);
    p.reset();
  });

  it("toxicity 0 never applies the toxic", async () => {
    const p = await manager.create({
      name: "echo0",
      listen: "127.0.0.1:0",
      upstream: `127.0.0.1:${echoPort}`,
    });
    p.addToxic(parseToxic({ type: "latency", toxicity: 0, attributes: { latency: 500 } }));
    const s = await connect(Number(p.address.split(":")[1]));
    expect(await fastest(s, "x")).toBeLessThan(400);
    s.destroy();
  });

  it("rejects invalid toxics listing the attribute problem", () => {
    expect(() => parseToxic({ type: "latency", attributes: { latncy: 5 } })).toThrow(/attributes/);
    expect(() => parseToxic({ type: "nope" })).toThrow(/invalid toxic/);
  });
});

/** Sends `data` through an echo proxy, half-closes, and returns what came back before the echo ended. */
function echoThrough(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const s = createConnection({ host: "127.0.0.1", port, allowHalfOpen: true }, () => s.end(data));
    s.on("data", (d: Buffer) => parts.push(d));
    s.once("error", reject);
    s.once("end", () => resolve(Buffer.concat(parts)));
  });
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const openFds = () => readdirSync("/proc/self/fd").length;

const addon = loadSpliceAddon();
if (!addon)
  console.log("skipping the kernel-forwarding checks: native/splice.c was not built (no C compiler?)");

describe.each([
  { splice: true, label: "in the kernel (splice)" },
  { splice: false, label: "in JavaScript" },
])("TCP fault proxy forwarding $label", ({ splice }) => {
  it.skipIf(splice && !addon)(
    "carries every byte both ways, passes a half-close through, and leaks no descriptor",
    async () => {
      const echoHalf = createServer({ allowHalfOpen: true }, (s) => {
        s.on("error", () => undefined);
        s.pipe(s); // ends its side once the client's side has ended and every byte is echoed
      });
      const port = await listen(echoHalf);
      const p = new TcpFaultProxy(
        { name: `fwd-${splice}`, listen: "127.0.0.1:0", upstream: `127.0.0.1:${port}` },
        { splice },
      );
      await p.start();
      const proxyPort = Number(p.address.split(":")[1]);
      const fds = openFds();
      const data = randomBytes(6 * 1024 * 1024);
      const back = await echoThrough(proxyPort, data);
      expect(back.length).toBe(data.length);
      expect(sha(back)).toBe(sha(data));

      // While a connection is open, both of its directions are in the kernel (or neither).
      const s = await connect(proxyPort);
      await roundTrip(s, "hello");
      expect(p.kernelLinks()).toBe(splice ? 2 : 0);
      p.addToxic(parseToxic({ type: "latency", attributes: { latency: 1 } }));
      await roundTrip(s, "again"); // handed back to JavaScript, data intact
      expect(p.kernelLinks()).toBe(splice ? 1 : 0); // only the toxic's direction moves
      s.destroy();
      p.reset();

      for (let i = 0; i < 20; i++)
        expect((await echoThrough(proxyPort, Buffer.from(`m${i}`))).toString()).toBe(`m${i}`);
      while (p.connections() > 0) await new Promise((r) => setTimeout(r, 10));
      expect(openFds()).toBeLessThanOrEqual(fds);
      await p.stop();
      echoHalf.close();
    },
  );

  it.skipIf(splice && !addon)(
    "toxics switched on and off under load: every byte of 20 connections arrives in order",
    async () => {
      const p = new TcpFaultProxy(
        { name: `churn-${splice}`, listen: "127.0.0.1:0", upstream: `127.0.0.1:${streamPort}` },
        { splice },
      );
      await p.start();
      const port = Number(p.address.split(":")[1]);
      const conns = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const s = await connect(port);
          const st = { s, got: 0, corrupt: -1 };
          s.on("data", (d: Buffer) => {
            for (let j = 0; j < d.length; j++)
              if (st.corrupt < 0 && d[j] !== (st.got + j) % 251) st.corrupt = st.got + j;
            st.got += d.length;
          });
          return st;
        }),
      );
      const kinds = [
        { type: "latency", attributes: { latency: 2 } },
        { type: "slicer", attributes: { average_size: 4096, size_variation: 1024 } },
        { type: "bandwidth", attributes: { rate: 20_000 } },
      ];
      for (let i = 0; i < 24; i++) {
        const k = kinds[i % kinds.length] as (typeof kinds)[number];
        p.addToxic(parseToxic({ ...k, name: "churn", stream: i % 2 ? "upstream" : "downstream" }));
        await new Promise((r) => setTimeout(r, 25));
        p.removeToxic("churn");
        await new Promise((r) => setTimeout(r, 25));
      }
      const before = conns.map((c) => c.got);
      await new Promise((r) => setTimeout(r, 100));
      for (const [i, c] of conns.entries()) {
        expect(c.corrupt).toBe(-1);
        expect(c.got).toBeGreaterThan(before[i] as number); // still flowing
        c.s.destroy();
      }
      while (p.connections() > 0) await new Promise((r) => setTimeout(r, 10));
      await p.stop();
    },
  );

  it.skipIf(splice && !addon)("a reset from the upstream reaches the client", async () => {
    const rst = createServer((s) => {
      s.on("error", () => undefined);
      s.once("data", () => s.resetAndDestroy());
    });
    const port = await listen(rst);
    const p = new TcpFaultProxy(
      { name: `rst-${splice}`, listen: "127.0.0.1:0", upstream: `127.0.0.1:${port}` },
      { splice },
    );
    await p.start();
    const r = await fetchBytes(Number(p.address.split(":")[1]), "x");
    expect(r.bytes).toBe(0);
    while (p.connections() > 0) await new Promise((res) => setTimeout(res, 10));
    await p.stop();
    rst.close();
  });
});

describe("proxy API and HTTP fault mode", () => {
  let api: ProxyApi;
  beforeAll(async () => {
    api = await startProxyApi({ token: "s3cret" });
  });
  afterAll(() => api.close());
  const call = (method: string, path: string, body?: unknown, token = "s3cret") =>
    fetch(api.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it("manages proxies and toxics with Toxiproxy-shaped routes, behind a token", async () => {
    expect((await call("GET", "/proxies", undefined, "wrong")).status).toBe(401);
    const created = await call("POST", "/proxies", {
      name: "web",
      listen: "127.0.0.1:0",
      upstream: `127.0.0.1:${httpPort}`,
      mode: "http",
    });
    expect(created.status).toBe(201);
    const listen = ((await created.json()) as { listen: string }).listen;
    expect(await (await fetch(`http://${listen}/a`)).text()).toBe("hello /a");

    const add = await call("POST", "/proxies/web/toxics", {
      name: "boom",
      type: "http_status",
      attributes: { status: 503, path_prefix: "/api" },
    });
    expect(add.status).toBe(200);
    expect((await fetch(`http://${listen}/api/x`)).status).toBe(503);
    expect((await fetch(`http://${listen}/other`)).status).toBe(200);

    await call("POST", "/proxies/web/toxics", {
      name: "cut",
      type: "http_abort",
      attributes: { path_prefix: "/cut" },
    });
    await expect(fetch(`http://${listen}/cut`)).rejects.toThrow();

    await call("POST", "/proxies/web/toxics", {
      name: "slow",
      type: "http_delay",
      attributes: { delay: 150, path_prefix: "/slow" },
    });
    const t0 = performance.now();
    await (await fetch(`http://${listen}/slow`)).text();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);

    expect((await call("DELETE", "/proxies/web/toxics/boom")).status).toBe(204);
    expect((await fetch(`http://${listen}/api/x`)).status).toBe(200);
    expect((await call("DELETE", "/proxies/web/toxics/boom")).status).toBe(404);
    const bad = await call("POST", "/proxies/web/toxics", { type: "latency", attributes: { latency: 5 } });
    expect(bad.status).toBe(400); // a TCP toxic on an HTTP proxy
    expect((await call("POST", "/reset")).status).toBe(204);
    const view = (await (await call("GET", "/proxies/web")).json()) as { toxics: unknown[] };
    expect(view.toxics).toEqual([]);
  });
});

describe("proxy API dead-man's switch", () => {
  it("removes every toxic once the heartbeat file goes stale", async () => {
    const dir = await mkdtemp(join(tmpdir(), "novasre-hb-"));
    const hb = join(dir, "heartbeat");
    await writeFile(hb, "1");
    const api = await startProxyApi({ heartbeat: { path: hb, staleMs: 400 } });
    try {
      const p = await api.manager.create({
        name: "e",
        listen: "127.0.0.1:0",
        upstream: `127.0.0.1:${echoPort}`,
      });
      p.addToxic(parseToxic({ type: "latency", attributes: { latency: 100 } }));
      await new Promise((r) => setTimeout(r, 200));
      expect(p.toxics()).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 800));
      expect(p.toxics()).toEqual([]);
    } finally {
      await api.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
