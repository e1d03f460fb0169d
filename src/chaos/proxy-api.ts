import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { describeIssues, isNovaError, ValidationError } from "../core/index.js";
import { errorStatus } from "./errors.js";
import { ProxyManager } from "./proxy.js";
import { heartbeatAgeMs } from "./state.js";
import { parseToxic } from "./toxics.js";

/** Largest request body the proxy API reads. */
export const PROXY_API_BODY_LIMIT_BYTES = 64 * 1024;
/** How often the proxy API checks the heartbeat file it was told to watch. */
const HEARTBEAT_CHECK_MS = 250;

const proxyCreateSchema = z
  .object({
    name: z.string().min(1),
    listen: z.string().min(3),
    upstream: z.string().min(3),
    mode: z.enum(["tcp", "http"]).default("tcp"),
    enabled: z.boolean().default(true),
  })
  .strict();

export interface ProxyApiOptions {
  host?: string;
  port?: number;
  manager?: ProxyManager;
  /** Bearer token demanded on every request, when set. */
  token?: string;
  /** Dead-man's switch: remove every toxic when this file's mtime is older than `staleMs`. */
  heartbeat?: { path: string; staleMs: number };
}

export interface ProxyApi {
  url: string;
  manager: ProxyManager;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > PROXY_API_BODY_LIMIT_BYTES) throw new ValidationError("body too large");
    parts.push(c as Buffer);
  }
  const text = Buffer.concat(parts).toString("utf8");
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError("malformed JSON");
  }
}

/**
 * A small HTTP API shaped like Toxiproxy's (`/proxies`, `/proxies/{name}/toxics`, `/reset`), so its
 * clients work against it. Binds to loopback by default.
 */
export async function startProxyApi(opts: ProxyApiOptions = {}): Promise<ProxyApi> {
  const manager = opts.manager ?? new ProxyManager();
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(body === undefined ? "" : JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (opts.token) {
      const want = Buffer.from(`Bearer ${opts.token}`);
      const got = Buffer.from(req.headers.authorization ?? "");
      if (want.length !== got.length || !timingSafeEqual(want, got))
        return send(res, 401, { error: "a bearer token is required" });
    }
    const url = new URL(req.url ?? "/", "http://x");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const m = req.method ?? "GET";
    if (parts[0] === "version") return send(res, 200, { version: "novasre-chaos-proxy/1" });
    if (parts[0] === "reset" && m === "POST") {
      manager.resetAll();
      for (const p of manager.list()) p.enabled = true;
      return send(res, 204, undefined);
    }
    if (parts[0] !== "proxies") return send(res, 404, { error: "not found" });
    if (parts.length === 1) {
      if (m === "GET")
        return send(res, 200, Object.fromEntries(manager.list().map((p) => [p.spec.name, p.view()])));
      if (m === "POST") {
        const parsed = proxyCreateSchema.safeParse(await readBody(req));
        if (!parsed.success)
          throw new ValidationError("invalid proxy", describeIssues(proxyCreateSchema, parsed.error.issues));
        const p = await manager.create(parsed.data);
        return send(res, 201, p.view());
      }
    }
    const name = parts[1] as string;
    if (parts.length === 2) {
      if (m === "GET") return send(res, 200, manager.get(name).view());
      if (m === "DELETE") {
        await manager.remove(name);
        return send(res, 204, undefined);
      }
      if (m === "POST") {
        const body = (await readBody(req)) as { enabled?: unknown };
        if (typeof body.enabled === "boolean") manager.get(name).enabled = body.enabled;
        return send(res, 200, manager.get(name).view());
      }
    }
    if (parts[2] === "toxics") {
      const p = manager.get(name);
      if (parts.length === 3 && m === "GET") return send(res, 200, p.toxics());
      if (parts.length === 3 && m === "POST") {
        const t = parseToxic(await readBody(req));
        p.addToxic(t);
        return send(res, 200, t);
      }
      const tname = parts[3] as string;
      if (parts.length === 4 && m === "GET") {
        const t = p.toxics().find((x) => x.name === tname);
        return t ? send(res, 200, t) : send(res, 404, { error: `toxic ${tname} not found` });
      }
      if (parts.length === 4 && m === "DELETE") {
        p.removeToxic(tname);
        return send(res, 204, undefined);
      }
    }
    return send(res, 404, { error: "not found" });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (isNovaError(e)) send(res, errorStatus(e), { error: e.message, code: e.code, details: e.details });
      else send(res, 500, { error: (e as Error).message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  let timer: NodeJS.Timeout | undefined;
  if (opts.heartbeat) {
    const hb = opts.heartbeat;
    timer = setInterval(() => {
      const age = heartbeatAgeMs(hb.path);
      if (age !== undefined && age > hb.staleMs) manager.resetAll();
    }, HEARTBEAT_CHECK_MS);
    timer.unref();
  }
  const addr = server.address() as { port: number; address: string };
  return {
    url: `http://${addr.address.includes(":") ? `[${addr.address}]` : addr.address}:${addr.port}`,
    manager,
    async close() {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await manager.close();
    },
  };
}
