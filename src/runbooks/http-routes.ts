import { z } from "zod";
import { AuthError, ErrorCode, ValidationError, type Clock } from "../core/index.js";
import type { Api, Principal, RouteDoc } from "../http/index.js";
import { ROLE_RANK, type Role, type RunbookExecutor } from "./executor.js";
import { parseRunbook, RunbookError } from "./load.js";
import { EXECUTION_STATUSES, type Execution, type ExecutionStore } from "./model.js";
import { renderPlan } from "./render.js";
import { runbookJsonSchema } from "./schema.js";
import type { RunbookService } from "./service.js";

/** Page size of execution lists by default, and the most a client may ask for. */
export const DEFAULT_EXECUTION_LIMIT = 50;
export const MAX_EXECUTION_LIMIT = 500;
export const MAX_AUDIT_LIMIT = 5_000;

export interface RunbookRouteDeps {
  service: RunbookService;
  executor: RunbookExecutor;
  store: ExecutionStore;
  clock: Clock;
}

const paramsBody = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({});
const runBody = z
  .object({
    params: paramsBody,
    dry_run: z.boolean().default(false),
    mode: z.enum(["live", "shadow"]).default("live"),
    incident_id: z.string().optional(),
    reason: z.string().max(2000).default(""),
  })
  .strict();
const inlineBody = runBody.extend({ yaml: z.string().min(1).max(1_000_000) }).strict();
const decideBody = z
  .object({ plan_hash: z.string().regex(/^[0-9a-f]{64}$/), comment: z.string().max(2000).default("") })
  .strict();
const completeBody = z
  .object({ done: z.boolean().default(true), note: z.string().max(10_000).default("") })
  .strict();
const abortBody = z.object({ rollback: z.boolean().default(false) }).strict();
const haltBody = z.object({ reason: z.string().min(1).max(2000) }).strict();
const remediateBody = z.object({ confidence: z.number().min(0).max(1) }).strict();
const listQuery = z.object({
  status: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(EXECUTION_STATUSES)))
    .optional(),
  runbook: z.string().optional(),
  target: z.string().optional(),
  incident: z.string().optional(),
  before: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_EXECUTION_LIMIT).default(DEFAULT_EXECUTION_LIMIT),
});

function roleOf(p: Principal): Role {
  if (p.kind === "token") return p.role;
  throw new AuthError(ErrorCode.Unauthenticated, "a bearer token is required");
}

/** An execution as clients see it: state plus the exact plan its approval is bound to. */
export function executionView(e: Execution) {
  const plan = renderPlan(
    e.runbook,
    { params: e.params, incident: { id: e.incidentId, labels: e.incidentLabels }, target: e.target },
    e.baseDir,
  );
  const { runbook, ...rest } = e;
  return {
    ...rest,
    runbook: {
      name: runbook.name,
      risk: runbook.risk,
      category: runbook.category,
      description: runbook.description,
      steps: runbook.steps.map((s) => ({ id: s.id, kind: s.kind, name: s.name ?? null })),
    },
    plan,
  };
}

function summary(e: Execution) {
  return {
    id: e.id,
    runbook: e.runbook.name,
    status: e.status,
    mode: e.mode,
    target: e.target,
    incidentId: e.incidentId,
    requestedBy: e.requestedBy,
    cursor: e.cursor,
    steps: e.runbook.steps.length,
    createdAt: e.createdAt,
    finishedAt: e.finishedAt,
    error: e.error,
  };
}

export function registerRunbookRoutes(api: Api, deps: RunbookRouteDeps): void {
  const { service, executor, store, clock } = deps;
  /**
   * Registers a route. Routes that need more than the viewer role take any valid token at the HTTP
   * layer and check the role here, so a refused attempt is recorded in the audit trail before the 403.
   */
  const route = (doc: RouteDoc, handler: Parameters<Api["route"]>[1]): void => {
    const need = doc.auth;
    if (need !== "operator" && need !== "admin") return api.route(doc, handler);
    api.route(
      { ...doc, auth: "viewer", summary: `${doc.summary} [${need}; refusals are audited]` },
      async (c, rc) => {
        const role = roleOf(rc.principal);
        if (ROLE_RANK[role] < ROLE_RANK[need]) {
          const id = c.req.param("id");
          await store.appendAudit([
            {
              executionId: id?.startsWith("rbe_") ? id : null,
              at: clock.now(),
              actor: rc.actor,
              event: "access.refused",
              stepId: null,
              attempt: null,
              data: { method: doc.method.toUpperCase(), path: c.req.path, role, need },
            },
          ]);
          throw new AuthError(ErrorCode.Forbidden, `this needs the ${need} role; the token has ${role}`);
        }
        return handler(c, rc);
      },
    );
  };
  const base = "/api/v1/runbooks";
  const exec = "/api/v1/runbook-executions";

  route(
    {
      method: "get",
      path: base,
      summary: "The runbook library",
      tag: "runbooks",
      auth: "viewer",
      responses: { 200: "runbooks" },
    },
    (c) =>
      c.json({
        runbooks: service.library().map(({ runbook: r, file }) => ({
          name: r.name,
          description: r.description,
          category: r.category,
          risk: r.risk,
          draft: r.draft,
          params: r.params,
          triggers: r.triggers.length,
          steps: r.steps.length,
          file,
        })),
      }),
  );
  route(
    {
      method: "get",
      path: `${base}/schema`,
      summary: "JSON Schema of runbook files",
      tag: "runbooks",
      auth: "viewer",
      responses: { 200: "JSON Schema" },
    },
    (c) => c.json(runbookJsonSchema()),
  );
  route(
    {
      method: "get",
      path: `${base}/halt`,
      summary: "Kill switch state",
      tag: "runbooks",
      auth: "viewer",
      responses: { 200: "state" },
    },
    async (c) => c.json({ halt: (await executor.haltState()) ?? { halted: false } }),
  );
  route(
    {
      method: "post",
      path: `${base}/halt`,
      summary: "Halt all automation (kill switch; survives restarts)",
      tag: "runbooks",
      auth: "operator",
      body: haltBody,
      responses: { 200: "halted" },
    },
    async (c, { body, actor }) =>
      c.json({ halt: await executor.setHalt(true, actor, (body as z.output<typeof haltBody>).reason) }),
  );
  route(
    {
      method: "post",
      path: `${base}/resume`,
      summary: "Resume automation after a halt (admin)",
      tag: "runbooks",
      auth: "admin",
      body: haltBody,
      responses: { 200: "resumed" },
    },
    async (c, { body, actor }) =>
      c.json({ halt: await executor.setHalt(false, actor, (body as z.output<typeof haltBody>).reason) }),
  );
  route(
    {
      method: "get",
      path: `${base}/audit`,
      summary:
        "Audit records not tied to an execution: refused runs and requests, halts, resumes, storm breaker",
      tag: "runbooks",
      auth: "viewer",
      query: z.object({ limit: z.coerce.number().int().min(1).max(MAX_AUDIT_LIMIT).default(1000) }),
      responses: { 200: "audit" },
    },
    async (c, { query }) => c.json({ audit: await store.audit(null, query["limit"] as number) }),
  );
  route(
    {
      method: "get",
      path: `${base}/drafts`,
      summary: "Draft a runbook from operator notes on past incidents of a signature",
      tag: "runbooks",
      auth: "operator",
      query: z.object({ signature: z.string().min(1) }),
      responses: { 200: "YAML", 404: "no incidents" },
    },
    async (c, { query }) => {
      const d = await service.draft(query["signature"] as string);
      return c.json(d);
    },
  );
  route(
    {
      method: "post",
      path: `${base}/run`,
      summary: "Run (or dry-run) an inline runbook; admin only, since it may run any program",
      tag: "runbooks",
      auth: "admin",
      body: inlineBody,
      responses: {
        200: "dry-run plan",
        202: "started",
        400: "invalid",
        409: "guard refused",
        429: "rate limited",
        503: "halted",
      },
    },
    async (c, { body, actor }) => {
      const b = body as z.output<typeof inlineBody>;
      let runbook;
      try {
        runbook = parseRunbook(b.yaml, "request");
      } catch (e) {
        if (e instanceof RunbookError) throw new ValidationError(e.message, e.details);
        throw e;
      }
      return start(c, { runbook, baseDir: null }, b, actor);
    },
  );
  route(
    {
      method: "get",
      path: `${base}/:name`,
      summary: "A runbook of the library",
      tag: "runbooks",
      auth: "viewer",
      responses: { 200: "runbook", 404: "unknown" },
    },
    (c) => {
      const r = service.runbook(c.req.param("name") as string);
      return c.json({ runbook: r.runbook, file: r.file });
    },
  );

  const start = async (
    c: Parameters<Parameters<Api["route"]>[1]>[0],
    rb: { runbook: Parameters<RunbookExecutor["start"]>[0]["runbook"]; baseDir: string | null },
    b: z.output<typeof runBody>,
    actor: string,
  ) => {
    let incident: { id: string; labels: Record<string, string> } | undefined;
    if (b.incident_id) {
      const inc = await service.incident(b.incident_id);
      incident = { id: inc.id, labels: await service.labelsOf(inc) };
    }
    const req = {
      runbook: rb.runbook,
      baseDir: rb.baseDir,
      params: b.params,
      incident,
      actor,
      reason: b.reason,
    };
    if (b.dry_run) return c.json(await executor.dryRun(req), 200);
    const e = await executor.start({ ...req, mode: b.mode });
    return c.json({ execution: executionView(e) }, 202);
  };

  route(
    {
      method: "post",
      path: `${base}/:name/run`,
      summary: "Run (or dry-run) a library runbook",
      tag: "runbooks",
      auth: "operator",
      body: runBody,
      responses: {
        200: "dry-run plan",
        202: "started",
        400: "invalid",
        404: "unknown",
        409: "guard refused",
        429: "rate limited",
        503: "halted",
      },
    },
    async (c, { body, actor }) =>
      start(c, service.runbook(c.req.param("name") as string), body as z.output<typeof runBody>, actor),
  );

  route(
    {
      method: "get",
      path: exec,
      summary: "List executions, newest first",
      tag: "runbooks",
      auth: "viewer",
      query: listQuery,
      responses: { 200: "executions" },
    },
    async (c, { query }) => {
      const q = query as z.output<typeof listQuery>;
      const list = await store.list({
        limit: q.limit,
        ...(q.status ? { status: q.status } : {}),
        ...(q.runbook ? { runbook: q.runbook } : {}),
        ...(q.target ? { target: q.target } : {}),
        ...(q.incident ? { incidentId: q.incident } : {}),
        ...(q.before ? { before: q.before } : {}),
      });
      return c.json({ executions: list.map(summary) });
    },
  );
  route(
    {
      method: "get",
      path: `${exec}/:id`,
      summary: "An execution with its plan and step results",
      tag: "runbooks",
      auth: "viewer",
      responses: { 200: "execution", 404: "unknown" },
    },
    async (c) => c.json({ execution: executionView(await executor.get(c.req.param("id") as string)) }),
  );
  route(
    {
      method: "get",
      path: `${exec}/:id/audit`,
      summary: "The execution's audit trail",
      tag: "runbooks",
      auth: "viewer",
      query: z.object({ limit: z.coerce.number().int().min(1).max(MAX_AUDIT_LIMIT).default(1000) }),
      responses: { 200: "audit" },
    },
    async (c, { query }) => {
      const id = c.req.param("id") as string;
      await executor.get(id);
      return c.json({ audit: await store.audit(id, query["limit"] as number) });
    },
  );
  for (const [path, approve] of [
    ["approve", true],
    ["reject", false],
  ] as const) {
    route(
      {
        method: "post",
        path: `${exec}/:id/${path}`,
        summary: `${approve ? "Approve" : "Reject"} the plan awaiting approval (echo its plan_hash); every attempt is audited`,
        tag: "runbooks",
        // Viewers reach the executor so their refused attempt is audited; it checks the role.
        auth: "viewer",
        body: decideBody,
        responses: { 200: "decided", 400: "plan hash mismatch", 403: "role too low", 409: "not waiting" },
      },
      async (c, { body, actor, principal }) => {
        const b = body as z.output<typeof decideBody>;
        const e = await executor.decide(
          c.req.param("id") as string,
          { actor, role: roleOf(principal) },
          b.plan_hash,
          approve,
          b.comment,
        );
        return c.json({ execution: executionView(e) });
      },
    );
  }
  route(
    {
      method: "post",
      path: `${exec}/:id/complete`,
      summary: "Record a manual task as done (or not)",
      tag: "runbooks",
      auth: "viewer",
      body: completeBody,
      responses: { 200: "recorded", 403: "role too low", 409: "not waiting" },
    },
    async (c, { body, actor, principal }) => {
      const b = body as z.output<typeof completeBody>;
      return c.json({
        execution: executionView(
          await executor.completeManual(
            c.req.param("id") as string,
            { actor, role: roleOf(principal) },
            b.done,
            b.note,
          ),
        ),
      });
    },
  );
  route(
    {
      method: "post",
      path: `${exec}/:id/abort`,
      summary: "Abort an execution (optionally rolling back completed steps)",
      tag: "runbooks",
      auth: "operator",
      body: abortBody,
      responses: { 200: "aborted", 409: "already finished" },
    },
    async (c, { body, actor }) =>
      c.json({
        execution: executionView(
          await executor.abort(
            c.req.param("id") as string,
            actor,
            (body as z.output<typeof abortBody>).rollback,
          ),
        ),
      }),
  );
  route(
    {
      method: "get",
      path: "/api/v1/incidents/:id/runbook-suggestions",
      summary: "Runbooks ranked by past success on similar incidents",
      tag: "runbooks",
      auth: "viewer",
      responses: { 200: "ranked runbooks" },
    },
    async (c) => c.json(await service.suggest(c.req.param("id") as string)),
  );
  route(
    {
      method: "post",
      path: "/api/v1/incidents/:id/remediate",
      summary: "Offer an incident to the runbook triggers with a root-cause confidence",
      tag: "runbooks",
      auth: "operator",
      body: remediateBody,
      responses: { 200: "started executions" },
    },
    async (c, { body }) => {
      const inc = await service.incident(c.req.param("id") as string);
      const started = await service.onIncident(inc, (body as z.output<typeof remediateBody>).confidence);
      return c.json({ executions: started.map(summary) });
    },
  );
}
