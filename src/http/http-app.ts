import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { Counter, Histogram, type Registry } from "prom-client";
import { z } from "zod";
import {
  AuthError,
  ErrorCode,
  NovaError,
  ValidationError,
  describeIssues,
  newId,
  type Clock,
  type Logger,
} from "../core/index.js";
import {
  hashToken,
  roleAtLeast,
  verifySignature,
  type Role,
  type TokenStore,
  generateTokenSecret,
  ROLES,
} from "./auth.js";
import { errorResponse } from "./error-mapping.js";
import { buildOpenApi, type RouteDoc } from "./openapi.js";

export type Principal =
  { kind: "token"; id: string; name: string; role: Role } | { kind: "hmac" } | { kind: "anonymous" };

export type HttpEnv = { Variables: { principal: Principal } };
export type Ctx = Context<HttpEnv>;

export interface ReceiverAuthOptions {
  requireAuth: boolean;
  hmacSecret: string | undefined;
  maxSkewMs: number;
}

export interface HttpCoreDeps {
  tokens: TokenStore;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  bodyLimitBytes: number;
  receivers: ReceiverAuthOptions;
  version: string;
  /** Readiness: every check must pass (database reachable, not shutting down). */
  ready(): Promise<Record<string, boolean>>;
}

export interface RouteContext {
  /** The parsed, validated JSON body. */
  body: unknown;
  /** The raw body text (for signatures). */
  raw: string;
  query: Record<string, unknown>;
  principal: Principal;
  /** `user:<token name>`, `hmac` or `anonymous`: what the timeline and audit record as the actor. */
  actor: string;
}

export type Handler = (c: Ctx, rc: RouteContext) => Promise<Response> | Response;

/**
 * A small router that registers a Hono route and its OpenAPI description together, with auth and
 * validation done the same way for every route.
 */
export class Api {
  readonly app = new Hono<HttpEnv>();
  readonly docs: RouteDoc[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: HttpCoreDeps) {
    const { registry, logger, bodyLimitBytes } = deps;
    const requests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    });
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request latency by route",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });

    this.app.use(async (c, next) => {
      this.inFlight++;
      const start = performance.now();
      try {
        await next();
      } finally {
        const route = c.req.routePath || "unmatched";
        requests.inc({ method: c.req.method, route, status: String(c.res.status) });
        duration.observe({ method: c.req.method, route }, (performance.now() - start) / 1000);
        if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      }
    });
    this.app.use(
      bodyLimit({
        maxSize: bodyLimitBytes,
        onError: (c) =>
          c.json(
            errorResponse(
              new NovaError(ErrorCode.PayloadTooLarge, `request body exceeds ${bodyLimitBytes} bytes`),
            ).body,
            413,
          ),
      }),
    );
    this.app.onError((err, c) => {
      const { status, body, bug } = errorResponse(err);
      if (bug) logger.error({ err, path: c.req.path }, "unhandled error");
      return c.json(body, status as 400);
    });
    this.app.notFound((c) =>
      c.json(
        errorResponse(new NovaError(ErrorCode.NotFound, `no route for ${c.req.method} ${c.req.path}`)).body,
        404,
      ),
    );
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  route(doc: RouteDoc, handler: Handler): void {
    this.docs.push(doc);
    this.app.on(doc.method.toUpperCase(), doc.path, async (c) => {
      const principal = await this.authenticate(c, doc);
      let raw = "";
      let body: unknown = undefined;
      if (doc.method === "post" || doc.method === "put") {
        raw = await c.req.text();
        if (doc.body) {
          if (raw.trim() === "")
            throw new ValidationError("request body is empty; expected JSON", [
              { path: "", message: "body required" },
            ]);
          try {
            body = JSON.parse(raw);
          } catch (e) {
            throw new ValidationError(`malformed JSON: ${(e as Error).message}`, [
              { path: "", message: "malformed JSON" },
            ]);
          }
          const parsed = doc.body.safeParse(body);
          if (!parsed.success) throw validationFailure(doc.body, parsed.error.issues);
          body = parsed.data;
        }
      }
      let query: Record<string, unknown> = {};
      if (doc.query) {
        const parsed = doc.query.safeParse(c.req.query());
        if (!parsed.success) throw validationFailure(doc.query, parsed.error.issues, "query.");
        query = parsed.data;
      }
      if (principal.kind === "hmac" && !this.signatureValid(c, raw)) {
        throw new AuthError(ErrorCode.Unauthenticated, "invalid or expired HMAC signature");
      }
      c.set("principal", principal);
      const actor = principal.kind === "token" ? `user:${principal.name}` : principal.kind;
      return handler(c, { body, raw, query, principal, actor });
    });
  }

  private signatureValid(c: Ctx, raw: string): boolean {
    const { hmacSecret, maxSkewMs } = this.deps.receivers;
    if (!hmacSecret) return false;
    return verifySignature(
      hmacSecret,
      c.req.header("x-novasre-timestamp"),
      c.req.header("x-novasre-signature"),
      raw,
      this.deps.clock.now(),
      maxSkewMs,
    );
  }

  /** Finds who is calling. Receivers also take an HMAC signature (checked once the body is read). */
  private async authenticate(c: Ctx, doc: RouteDoc): Promise<Principal> {
    if (!doc.auth) return { kind: "anonymous" };
    const header = c.req.header("authorization");
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new AuthError(ErrorCode.Unauthenticated, "Authorization header must be `Bearer <token>`");
      const p = await this.tokenPrincipal(m[1] as string);
      if (!p) throw new AuthError(ErrorCode.Unauthenticated, "unknown or revoked token");
      const need: Role = doc.auth === "receiver" ? "operator" : doc.auth;
      if (!roleAtLeast(p.role, need))
        throw new AuthError(ErrorCode.Forbidden, `this needs the ${need} role; the token has ${p.role}`);
      return p;
    }
    if (doc.auth === "receiver") {
      if (c.req.header("x-novasre-signature")) return { kind: "hmac" };
      if (!this.deps.receivers.requireAuth) return { kind: "anonymous" };
    }
    throw new AuthError(
      ErrorCode.Unauthenticated,
      doc.auth === "receiver"
        ? "a bearer token or an HMAC signature is required"
        : "a bearer token is required",
    );
  }

  async tokenPrincipal(secret: string): Promise<Extract<Principal, { kind: "token" }> | undefined> {
    const t = await this.deps.tokens.findByHash(hashToken(secret));
    if (!t || t.revokedAt !== null) return undefined;
    // last_used_at is advisory: losing an update under load is fine, blocking the request on it is not.
    void this.deps.tokens.touch(t.id, this.deps.clock.now()).catch(() => undefined);
    return { kind: "token", id: t.id, name: t.name, role: t.role };
  }

  openApi(): Record<string, unknown> {
    return buildOpenApi(this.docs, this.deps.version);
  }
}

function validationFailure(
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
  prefix = "",
): ValidationError {
  const details = describeIssues(schema, issues).map((d) => ({ ...d, path: prefix + d.path }));
  const first = details[0];
  const msg = first
    ? `${first.path || "body"}: ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ""}`
    : "invalid request";
  return new ValidationError(msg, details);
}

const tokenCreateSchema = z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES) });

/** Health, metrics, OpenAPI and token routes: everything that is not a feature of its own. */
export function registerCoreRoutes(api: Api, deps: HttpCoreDeps): void {
  api.route(
    {
      method: "get",
      path: "/healthz",
      summary: "Liveness: the process serves requests",
      tag: "health",
      responses: { 200: "alive" },
    },
    (c) => c.json({ status: "ok" }),
  );
  api.route(
    {
      method: "get",
      path: "/readyz",
      summary: "Readiness: dependencies reachable and not shutting down",
      tag: "health",
      responses: { 200: "ready", 503: "not ready" },
    },
    async (c) => {
      const checks = await deps.ready();
      const ok = Object.values(checks).every(Boolean);
      return c.json({ status: ok ? "ready" : "not ready", checks }, ok ? 200 : 503);
    },
  );
  api.route(
    {
      method: "get",
      path: "/metrics",
      summary: "Prometheus metrics of this server",
      tag: "health",
      responses: { 200: "text exposition" },
    },
    async (c) => c.text(await deps.registry.metrics(), 200, { "content-type": deps.registry.contentType }),
  );
  api.route(
    {
      method: "get",
      path: "/openapi.json",
      summary: "This document",
      tag: "health",
      responses: { 200: "OpenAPI 3.1" },
    },
    (c) => c.json(api.openApi()),
  );

  api.route(
    {
      method: "get",
      path: "/api/v1/tokens",
      summary: "List API tokens (never their secrets)",
      tag: "auth",
      auth: "admin",
      responses: { 200: "tokens", 401: "no token", 403: "not admin" },
    },
    async (c) => c.json({ tokens: await deps.tokens.list() }),
  );
  api.route(
    {
      method: "post",
      path: "/api/v1/tokens",
      summary: "Create an API token; the secret is returned once",
      tag: "auth",
      auth: "admin",
      body: tokenCreateSchema,
      responses: { 201: "created", 400: "bad input", 401: "no token", 403: "not admin" },
    },
    async (c, { body }) => {
      const { name, role } = body as z.output<typeof tokenCreateSchema>;
      const created = await createToken(deps.tokens, name, role, deps.clock.now());
      return c.json(created, 201);
    },
  );
  api.route(
    {
      method: "delete",
      path: "/api/v1/tokens/:id",
      summary: "Revoke a token",
      tag: "auth",
      auth: "admin",
      responses: { 204: "revoked", 404: "no such token" },
    },
    async (c) => {
      const id = c.req.param("id") as string;
      if (!(await deps.tokens.revoke(id, deps.clock.now())))
        throw new NovaError(ErrorCode.NotFound, `token ${JSON.stringify(id)} not found or already revoked`);
      return c.body(null, 204);
    },
  );
}

export async function createToken(
  tokens: TokenStore,
  name: string,
  role: Role,
  now: number,
): Promise<{ id: string; name: string; role: Role; token: string }> {
  const secret = generateTokenSecret();
  const id = newId("tok", now);
  await tokens.insert(
    { id, name, role, createdAt: now, lastUsedAt: null, revokedAt: null },
    hashToken(secret),
  );
  return { id, name, role, token: secret };
}
