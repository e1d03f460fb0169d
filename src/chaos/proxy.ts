import {
  createServer as createHttpServer,
  request as httpRequest,
  Agent,
  type Server as HttpServer,
} from "node:http";
import { createRequire } from "node:module";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { ConflictError, NotFoundError, ValidationError } from "../core/index.js";
import { HTTP_TOXIC_TYPES, TCP_TOXIC_TYPES, type Stream, type Toxic } from "./toxics.js";

/** Bytes queued in a toxic link before the reading side is paused (backpressure). */
export const LINK_HIGH_WATER_BYTES = 1024 * 1024;
/**
 * Read buffer, in bytes, per connection for the proxy's upstream socket (the bulk direction of most
 * services). Node's default is a fresh 64 KiB buffer per read; reusing one (while no pending write points
 * into it) more than halved the proxy's CPU per byte, and 256 KiB took a little more off than 64 KiB.
 * 1 MiB was only slightly better again, for four times the memory per connection.
 */
export const READ_BUFFER_BYTES = 256 * 1024;
/** Bandwidth toxic: a chunk is released in pieces of at most this many milliseconds' worth of data. */
export const BANDWIDTH_PIECE_MS = 20;

/** native/splice.c: zero-copy forwarding of one direction of a connection (Linux). */
interface SpliceAddon {
  attach(inFd: number, outFd: number, done: (event: SpliceEvent) => void): object;
  /** Stop reading; "detached" follows once the bytes already read are written. */
  detach(handle: object): void;
  /** Stop at once (the connection is going away). */
  cancel(handle: object): void;
}
type SpliceEvent = "eof" | "error" | "detached" | "cancelled";

let spliceAddon: SpliceAddon | null | undefined;
/**
 * The addon if it was built (`npm install` builds it where a C compiler is present), else null and the
 * proxy forwards in JavaScript. Loaded on first use, not at import.
 */
export function loadSpliceAddon(): SpliceAddon | null {
  if (spliceAddon === undefined) {
    // With libuv's io_uring backend (opt-in: UV_USE_IO_URING=1) the epoll removal of a closed poll handle
    // is deferred to the next loop turn, after the addon has closed its descriptors: a stale
    // registration then spins the loop. Node's default (epoll) removes it at once.
    const ioUring = (process.env["UV_USE_IO_URING"] ?? "0") !== "0";
    try {
      spliceAddon =
        process.platform === "linux" && !ioUring
          ? (createRequire(import.meta.url)("../../build/Release/splice.node") as SpliceAddon)
          : null;
    } catch {
      spliceAddon = null;
    }
  }
  return spliceAddon;
}

const fdOf = (s: Socket): number => (s as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;

export type ProxyMode = "tcp" | "http";

export interface ProxySpec {
  name: string;
  /** host:port; port 0 picks a free one. */
  listen: string;
  /** host:port of the real service. */
  upstream: string;
  mode?: ProxyMode;
  enabled?: boolean;
}

export interface ProxyView {
  name: string;
  mode: ProxyMode;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Toxic[];
}

export function splitHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(":");
  const port = Number(hp.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new ValidationError(`expected host:port, got ${JSON.stringify(hp)}`);
  return { host: hp.slice(0, i).replace(/^\[|\]$/g, "") || "127.0.0.1", port };
}

const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/** A proxy whose toxics can change while it runs; the common part of the TCP and HTTP kinds. */
abstract class ProxyBase {
  protected toxicList: Toxic[] = [];
  /** Bumped on every toxic change so connections re-read their active toxics lazily. */
  version = 0;
  enabled: boolean;
  protected boundPort = 0;
  constructor(readonly spec: ProxySpec) {
    this.enabled = spec.enabled ?? true;
    splitHostPort(spec.listen);
    splitHostPort(spec.upstream);
  }
  abstract readonly mode: ProxyMode;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
  get address(): string {
    return `${splitHostPort(this.spec.listen).host}:${this.boundPort}`;
  }
  toxics(): Toxic[] {
    return [...this.toxicList];
  }
  addToxic(t: Toxic): void {
    const allowed: readonly string[] = this.mode === "tcp" ? TCP_TOXIC_TYPES : HTTP_TOXIC_TYPES;
    if (!allowed.includes(t.type))
      throw new ValidationError(`toxic type ${t.type} does not apply to a ${this.mode} proxy`);
    if (this.toxicList.some((x) => x.name === t.name))
      throw new ConflictError(`toxic ${t.name} already exists on proxy ${this.spec.name}`);
    this.toxicList = [...this.toxicList, t];
    this.version++;
    this.toxicsChanged();
  }
  removeToxic(name: string): void {
    if (!this.toxicList.some((x) => x.name === name)) throw new NotFoundError("toxic", name);
    this.toxicList = this.toxicList.filter((x) => x.name !== name);
    this.version++;
    this.toxicsChanged();
  }
  reset(): void {
    this.toxicList = [];
    this.version++;
    this.toxicsChanged();
  }
  protected toxicsChanged(): void {}
  view(): ProxyView {
    return {
      name: this.spec.name,
      mode: this.mode,
      listen: this.address,
      upstream: this.spec.upstream,
      enabled: this.enabled,
      toxics: this.toxics(),
    };
  }
}

/** One direction of one connection: data from `src` through the active toxics to `dst`. */
class Link {
  private queue: { buf: Buffer; at: number }[] = [];
  private queuedBytes = 0;
  private pumping = false;
  private srcEnded = false;
  private active: Toxic[] = [];
  private seenVersion = -1;
  /** Per-connection dice roll per toxic name (Toxiproxy's toxicity is per connection). */
  private readonly rolls = new Map<string, boolean>();
  private limitSent = 0;
  private bandwidthFree = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Set while the kernel forwards this direction (no toxic, zero-copy); see start(). */
  private native: object | undefined;

  constructor(
    private readonly proxy: TcpFaultProxy,
    private readonly conn: Connection,
    readonly stream: Stream,
    private readonly src: Socket,
    private readonly dst: Socket,
    /** The source was opened with `onread` bound to this link's readBuffer/onRead, so emits no "data". */
    userBuffer = false,
  ) {
    if (!userBuffer) src.on("data", (buf: Buffer) => this.onData(buf));
    src.on("end", () => {
      this.srcEnded = true;
      if (!this.pumping) void this.finish();
    });
    this.refresh();
  }

  /**
   * Starts forwarding once both sockets are connected. Without a toxic, and with the addon built, the
   * kernel moves the bytes (splice) and they never enter JavaScript; otherwise JavaScript reads them.
   * Both sockets were created paused, so no byte has been read yet and none can be skipped.
   */
  start(): void {
    const addon = this.proxy.spliceAddon;
    const inFd = fdOf(this.src);
    const outFd = fdOf(this.dst);
    if (addon && this.active.length === 0 && inFd >= 0 && outFd >= 0 && !this.conn.closed) {
      try {
        this.native = addon.attach(inFd, outFd, (event) => this.nativeDone(event));
        return;
      } catch {
        this.native = undefined; // pipe or dup refused (descriptor limit): JavaScript forwards instead
      }
    }
    this.src.resume();
  }

  get inKernel(): boolean {
    return this.native !== undefined;
  }

  /**
   * The kernel stopped forwarding: a toxic arrived (detached, every byte read was written), the source
   * ended (eof) or failed. JavaScript takes over for the rest of the connection; on eof its first read
   * sees the end and closes the other side as usual.
   */
  private nativeDone(event: SpliceEvent): void {
    this.native = undefined;
    if (event === "cancelled" || this.conn.closed) return;
    if (event === "error") return this.conn.destroy();
    this.src.resume();
  }

  /** Re-reads the proxy's toxics; arms timers of toxics that act on time rather than data. */
  refresh(): void {
    if (this.seenVersion === this.proxy.version) return;
    this.seenVersion = this.proxy.version;
    const wasTimed = new Set(this.active.filter((t) => t.type === "timeout" || t.type === "reset_peer"));
    this.active = this.proxy.toxicsFor(this.stream).filter((t) => {
      let r = this.rolls.get(t.name);
      if (r === undefined) {
        r = t.toxicity >= 1 || Math.random() < t.toxicity;
        this.rolls.set(t.name, r);
      }
      return r;
    });
    if (this.native && this.active.length) this.proxy.spliceAddon?.detach(this.native);
    for (const t of this.active) {
      if (wasTimed.has(t)) continue;
      const ms = Number(t.attributes["timeout"] ?? 0);
      // timeout 0 means at once: before any data of this connection can pass.
      if (t.type === "reset_peer" && ms === 0) queueMicrotask(() => this.conn.reset());
      else if (t.type === "reset_peer") this.timers.push(setTimeout(() => this.conn.reset(), ms));
      else if (t.type === "timeout" && ms > 0) this.timers.push(setTimeout(() => this.conn.destroy(), ms));
    }
    if (!this.active.some((t) => t.type === "timeout") && this.queue.length && !this.pumping)
      void this.pump();
  }

  private awaitingDrain = false;
  private readBuf: Buffer | undefined;
  /** `onread` buffer: where the source's next read lands. */
  readonly readBuffer = (): Buffer => (this.readBuf ??= Buffer.allocUnsafe(READ_BUFFER_BYTES));
  /** `onread` callback: `n` bytes arrived in the read buffer. */
  readonly onRead = (n: number, buf: Uint8Array): true => {
    if (this.fast()) {
      this.onData(Buffer.from(buf.buffer, buf.byteOffset, n));
      // A write the kernel did not take at once still points into the buffer: the next read gets a new one.
      if (this.dst.writableLength > 0) this.readBuf = undefined;
    } else {
      // Toxics hold data for a while; a copy keeps a small chunk from pinning the whole read buffer.
      this.onData(Buffer.from(buf.subarray(0, n)));
    }
    return true;
  };

  private fast(): boolean {
    this.refresh();
    return !this.pumping && this.queue.length === 0 && this.active.length === 0;
  }

  private onData(buf: Buffer): void {
    if (this.fast()) {
      // Fast path: no toxic, nothing queued. Plain write with backpressure.
      if (!this.dst.write(buf) && !this.awaitingDrain) {
        this.awaitingDrain = true;
        this.src.pause();
        this.dst.once("drain", () => {
          this.awaitingDrain = false;
          this.resumeSrc();
        });
      }
      return;
    }
    this.queue.push({ buf, at: performance.now() });
    this.queuedBytes += buf.length;
    if (this.queuedBytes > LINK_HIGH_WATER_BYTES) this.src.pause();
    if (!this.pumping) void this.pump();
  }

  /** Resumes the source unless the destination or the toxic queue still holds too much. */
  private resumeSrc(): void {
    if (this.src.isPaused() && !this.awaitingDrain && this.queuedBytes <= LINK_HIGH_WATER_BYTES / 4)
      this.src.resume();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length && !this.conn.closed) {
        this.refresh();
        // A timeout toxic holds data back until it is removed (or the connection closes).
        if (this.active.some((t) => t.type === "timeout")) return;
        const item = this.queue.shift() as { buf: Buffer; at: number };
        this.queuedBytes -= item.buf.length;
        this.resumeSrc();
        await this.run(item.buf, 0, item.at, this.active);
      }
    } finally {
      this.pumping = false;
    }
    if (this.srcEnded && !this.queue.length) await this.finish();
  }

  private removed(t: Toxic): boolean {
    this.refresh();
    return !this.active.includes(t);
  }

  private async run(buf: Buffer, i: number, at: number, toxics: Toxic[]): Promise<void> {
    if (this.conn.closed) return;
    const t = toxics[i];
    if (!t) {
      if (!this.dst.write(buf)) await new Promise((r) => this.dst.once("drain", r));
      return;
    }
    const a = t.attributes;
    switch (t.type) {
      case "latency": {
        const jitter = Number(a["jitter"] ?? 0);
        const delay = Number(a["latency"]) + (jitter ? (Math.random() * 2 - 1) * jitter : 0);
        const due = at + Math.max(0, delay);
        await sleep(due - performance.now());
        return this.run(buf, i + 1, due, toxics);
      }
      case "bandwidth": {
        const bytesPerMs = Number(a["rate"]); // KB/s == bytes/ms
        const piece = Math.max(512, Math.floor(bytesPerMs * BANDWIDTH_PIECE_MS));
        for (let off = 0; off < buf.length; off += piece) {
          // A toxic removed mid-chunk stops at once rather than after the rest of a (large) chunk.
          if (this.removed(t)) return this.run(buf.subarray(off), i + 1, performance.now(), toxics);
          const part = buf.subarray(off, off + piece);
          // A timer that fires late must not cost bandwidth: lateness up to one piece is caught up.
          const start = Math.max(performance.now() - BANDWIDTH_PIECE_MS, this.bandwidthFree);
          this.bandwidthFree = start + part.length / bytesPerMs;
          await sleep(this.bandwidthFree - performance.now());
          await this.run(part, i + 1, performance.now(), toxics);
        }
        return;
      }
      case "slicer": {
        const avg = Number(a["average_size"]);
        const variation = Number(a["size_variation"] ?? 0);
        const delayMs = Number(a["delay"] ?? 0) / 1000;
        for (let off = 0; off < buf.length;) {
          if (this.removed(t)) return this.run(buf.subarray(off), i + 1, at, toxics);
          const size = Math.max(1, Math.round(avg + (Math.random() * 2 - 1) * variation));
          await this.run(buf.subarray(off, off + size), i + 1, at, toxics);
          off += size;
          if (off < buf.length && delayMs > 0) await sleep(delayMs);
        }
        return;
      }
      case "limit_data": {
        const limit = Number(a["bytes"]);
        const room = limit - this.limitSent;
        if (room <= 0) return this.conn.destroy();
        const part = buf.length > room ? buf.subarray(0, room) : buf;
        this.limitSent += part.length;
        await this.run(part, i + 1, at, toxics);
        if (this.limitSent >= limit) this.conn.destroy();
        return;
      }
      default:
        return this.run(buf, i + 1, at, toxics);
    }
  }

  private async finish(): Promise<void> {
    if (this.conn.closed) return;
    this.refresh();
    if (this.active.some((t) => t.type === "timeout")) return;
    const slow = this.active.find((t) => t.type === "slow_close");
    if (slow) await sleep(Number(slow.attributes["delay"]));
    if (!this.dst.destroyed) this.dst.end();
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    // Before the sockets close: the addon's duplicate descriptors would keep them open.
    if (this.native) this.proxy.spliceAddon?.cancel(this.native);
  }
}

class Connection {
  closed = false;
  readonly links: Link[] = [];
  readonly down: Link;
  constructor(
    proxy: TcpFaultProxy,
    readonly client: Socket,
    readonly upstream: Socket,
    private readonly done: (c: Connection) => void,
  ) {
    this.down = new Link(proxy, this, "downstream", upstream, client, true);
    this.links.push(new Link(proxy, this, "upstream", client, upstream), this.down);
    for (const s of [client, upstream]) {
      s.on("error", () => this.destroy());
      s.on("close", () => {
        // A half-closed peer is fine; a fully closed one ends the pair once its data is through.
        if (client.destroyed && upstream.destroyed) this.destroy();
      });
    }
  }
  refresh(): void {
    for (const l of this.links) l.refresh();
  }
  /** Both sockets are connected: forwarding begins. */
  start(): void {
    for (const l of this.links) l.start();
  }
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.links) l.dispose();
    this.client.destroy();
    this.upstream.destroy();
    this.done(this);
  }
  reset(): void {
    if (this.closed) return;
    for (const l of this.links) l.dispose();
    for (const s of [this.client, this.upstream]) if (!s.destroyed) s.resetAndDestroy();
    this.destroy();
  }
}

/** A TCP proxy with Toxiproxy's toxics. Toxics apply to open connections too, as in Toxiproxy. */
export class TcpFaultProxy extends ProxyBase {
  readonly mode = "tcp" as const;
  /** Zero-copy forwarding for connections without a toxic, or null (not built, or turned off). */
  readonly spliceAddon: SpliceAddon | null;
  constructor(spec: ProxySpec, opts: { splice?: boolean } = {}) {
    super(spec);
    this.spliceAddon = opts.splice === false ? null : loadSpliceAddon();
  }
  private server: Server | undefined;
  private readonly conns = new Set<Connection>();
  private byStream: Record<Stream, Toxic[]> = { upstream: [], downstream: [] };

  toxicsFor(stream: Stream): Toxic[] {
    return this.byStream[stream];
  }
  protected override toxicsChanged(): void {
    this.byStream = {
      upstream: this.toxicList.filter((t) => t.stream === "upstream"),
      downstream: this.toxicList.filter((t) => t.stream === "downstream"),
    };
    for (const c of this.conns) c.refresh();
  }

  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.spec.listen);
    const up = splitHostPort(this.spec.upstream);
    // Sockets start paused (nothing read) so that forwarding can begin in the kernel; see Link.start.
    // Half-open: a client that has sent everything (FIN) still gets the whole answer, as without the proxy.
    const server = createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (client) => {
      if (!this.enabled) {
        client.destroy();
        return;
      }
      const down: { link?: Link } = {};
      const upstream = createConnection({
        host: up.host,
        port: up.port,
        noDelay: true,
        allowHalfOpen: true,
        onread: {
          // Node asks for the first buffer while it sets the socket up, before the link exists.
          buffer: () => down.link?.readBuffer() ?? Buffer.allocUnsafe(READ_BUFFER_BYTES),
          callback: (n, b) => down.link?.onRead(n, b) ?? false,
        },
      });
      upstream.pause();
      const conn = new Connection(this, client, upstream, (c) => this.conns.delete(c));
      down.link = conn.down;
      this.conns.add(conn);
      upstream.once("connect", () => conn.start());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  connections(): number {
    return this.conns.size;
  }
  /** Directions of open connections the kernel forwards (zero-copy); the rest go through JavaScript. */
  kernelLinks(): number {
    let n = 0;
    for (const c of this.conns) for (const l of c.links) if (l.inKernel) n++;
    return n;
  }
}

/** An HTTP reverse proxy that injects status codes, delays and aborts per request. */
export class HttpFaultProxy extends ProxyBase {
  readonly mode = "http" as const;
  private server: HttpServer | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  private pick(method: string, path: string): Toxic[] {
    return this.toxicList.filter((t) => {
      const prefix = t.attributes["path_prefix"];
      const m = t.attributes["method"];
      if (typeof prefix === "string" && !path.startsWith(prefix)) return false;
      if (typeof m === "string" && m.toUpperCase() !== method) return false;
      return t.toxicity >= 1 || Math.random() < t.toxicity;
    });
  }

  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.spec.listen);
    const up = splitHostPort(this.spec.upstream);
    const server = createHttpServer((req, res) => {
      void (async () => {
        const hits = this.pick(req.method ?? "GET", req.url ?? "/");
        for (const t of hits) {
          if (t.type === "http_delay") {
            const jitter = Number(t.attributes["jitter"] ?? 0);
            await sleep(Number(t.attributes["delay"]) + (jitter ? (Math.random() * 2 - 1) * jitter : 0));
          }
        }
        if (hits.some((t) => t.type === "http_abort")) {
          req.socket.resetAndDestroy();
          return;
        }
        const status = hits.find((t) => t.type === "http_status");
        if (status) {
          req.resume();
          res.writeHead(Number(status.attributes["status"]), {
            "content-type": "text/plain",
            "x-novasre-chaos": status.name,
          });
          res.end(String(status.attributes["body"] ?? ""));
          return;
        }
        const fwd = httpRequest(
          {
            host: up.host,
            port: up.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent: this.agent,
          },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        fwd.on("error", (e) => {
          if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
          res.end(`upstream error: ${e.message}`);
        });
        req.pipe(fwd);
      })();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.agent.destroy();
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}

export type FaultProxy = TcpFaultProxy | HttpFaultProxy;

/** Named proxies in one process; what the proxy API and the engine's in-process proxies use. */
export class ProxyManager {
  private readonly proxies = new Map<string, FaultProxy>();

  async create(spec: ProxySpec): Promise<FaultProxy> {
    if (!/^[\w.-]{1,100}$/.test(spec.name))
      throw new ValidationError(`invalid proxy name ${JSON.stringify(spec.name)}`);
    if (this.proxies.has(spec.name)) throw new ConflictError(`proxy ${spec.name} already exists`);
    const p = (spec.mode ?? "tcp") === "http" ? new HttpFaultProxy(spec) : new TcpFaultProxy(spec);
    this.proxies.set(spec.name, p);
    try {
      await p.start();
    } catch (e) {
      this.proxies.delete(spec.name);
      throw new ValidationError(`cannot listen on ${spec.listen}: ${(e as Error).message}`);
    }
    return p;
  }
  get(name: string): FaultProxy {
    const p = this.proxies.get(name);
    if (!p) throw new NotFoundError("proxy", name);
    return p;
  }
  list(): FaultProxy[] {
    return [...this.proxies.values()];
  }
  async remove(name: string): Promise<void> {
    const p = this.get(name);
    this.proxies.delete(name);
    await p.stop();
  }
  /** Removes every toxic from every proxy: the proxies keep forwarding, cleanly. */
  resetAll(): number {
    let n = 0;
    for (const p of this.proxies.values()) {
      n += p.toxics().length;
      p.reset();
    }
    return n;
  }
  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
    this.proxies.clear();
  }
}
