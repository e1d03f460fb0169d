import { Kysely, sql, type Selectable } from "kysely";
import type {
  AuditEntry,
  Execution,
  ExecutionFilter,
  ExecutionStatus,
  ExecutionStore,
  Outcome,
  StoredAuditEntry,
} from "../runbooks/index.js";
import { ACTIVE_STATUSES } from "../runbooks/index.js";
import type { Database, Db, SqliteConnection } from "./database.js";
import { parseJson } from "./json.js";
import type { Tables } from "./schema.js";

type Row = Selectable<Tables["runbook_executions"]>;

/** JSON of step results by result object; results are replaced, never changed in place (`Execution.results`). */
type ResultJsonCache = WeakMap<object, string>;

/**
 * Same text as `JSON.stringify(results)`, reusing each result's JSON from earlier saves: an execution is
 * saved after every step, and re-serialising every earlier result each time grew with the step count.
 */
function resultsJson(results: Execution["results"], cache: ResultJsonCache | null): string {
  if (cache === null) return JSON.stringify(results);
  let out = "";
  for (const k of Object.keys(results)) {
    const v: unknown = results[k];
    if (v === undefined) continue;
    let j = typeof v === "object" && v !== null ? cache.get(v) : undefined;
    if (j === undefined) {
      j = JSON.stringify(v);
      if (typeof v === "object" && v !== null) cache.set(v, j);
    }
    out += `${out === "" ? "{" : ","}${JSON.stringify(k)}:${j}`;
  }
  return out === "" ? "{}" : `${out}}`;
}

function mutable(e: Execution, cache: ResultJsonCache | null = null) {
  return {
    status: e.status,
    cursor: e.cursor,
    steps_run: e.stepsRun,
    results: resultsJson(e.results, cache),
    rollback_stack: JSON.stringify(e.rollbackStack),
    in_flight: e.inFlight,
    waiting: e.waiting === null ? null : JSON.stringify(e.waiting),
    error: e.error,
    updated_at: e.updatedAt,
    finished_at: e.finishedAt,
    lease_owner: e.leaseOwner,
    lease_until: e.leaseUntil,
  };
}

function fromRow(r: Row): Execution {
  return {
    id: r.id,
    runbook: parseJson(r.runbook),
    runbookHash: r.runbook_hash,
    baseDir: r.base_dir,
    params: parseJson(r.params),
    target: r.target,
    mode: r.mode as Execution["mode"],
    status: r.status as ExecutionStatus,
    cursor: r.cursor,
    stepsRun: r.steps_run,
    results: parseJson(r.results),
    rollbackStack: parseJson(r.rollback_stack),
    inFlight: r.in_flight,
    waiting: r.waiting === null ? null : parseJson(r.waiting),
    planHash: r.plan_hash,
    incidentId: r.incident_id,
    incidentLabels: parseJson(r.incident_labels),
    requestedBy: r.requested_by,
    reason: r.reason,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until,
  };
}

function auditRows(entries: readonly AuditEntry[]) {
  return entries.map((a) => ({
    execution_id: a.executionId,
    at: a.at,
    actor: a.actor,
    event: a.event,
    step_id: a.stepId,
    attempt: a.attempt,
    data: JSON.stringify(a.data),
  }));
}

type Mutable = ReturnType<typeof mutable>;
type AuditRow = ReturnType<typeof auditRows>[number];

const SAVE_SQL = `update runbook_executions set status = ?, cursor = ?, steps_run = ?, results = ?, rollback_stack = ?,
  in_flight = ?, waiting = ?, error = ?, updated_at = ?, finished_at = ?, lease_owner = ?, lease_until = ? where id = ?`;
const AUDIT_SQL = `insert into runbook_audit (execution_id, at, actor, event, step_id, attempt, data)
  values (?, ?, ?, ?, ?, ?, ?)`;

/**
 * SQLite's per-step save: statements prepared once on the connection and one synchronous transaction,
 * instead of Kysely's begin, statements and commit, each an await behind its connection mutex. It
 * commits before it returns, like the Kysely path, so durability is the same.
 */
function sqliteSaver(db: Db, conn: SqliteConnection) {
  const update = conn.prepare(SAVE_SQL);
  const append = conn.prepare(AUDIT_SQL);
  const write = conn.transaction((id: string, m: Mutable, audit: readonly AuditRow[]) => {
    update.run(
      m.status,
      m.cursor,
      m.steps_run,
      m.results,
      m.rollback_stack,
      m.in_flight,
      m.waiting,
      m.error,
      m.updated_at,
      m.finished_at,
      m.lease_owner,
      m.lease_until,
      id,
    );
    for (const a of audit) append.run(a.execution_id, a.at, a.actor, a.event, a.step_id, a.attempt, a.data);
  });
  return async (id: string, m: Mutable, audit: readonly AuditRow[]): Promise<void> => {
    // Kysely shares this connection. An open Kysely transaction is waiting on an await between its
    // statements; writing now would land inside it (better-sqlite3 nests as a savepoint) and share its
    // fate. So wait for the connection like any Kysely query. Otherwise nothing else can run on it until
    // this synchronous transaction has committed.
    if (!conn.inTransaction) write(id, m, audit);
    else await db.connection().execute(() => Promise.resolve(write(id, m, audit)));
  };
}

/**
 * Executions, their append-only audit trail and remediation outcomes. Given the `Database` (rather than
 * its Kysely instance) on SQLite, the per-step save takes a prepared-statement fast path.
 */
export function createRunbookStore(database: Db | Database): ExecutionStore {
  const db = database instanceof Kysely ? database : database.db;
  const fastSave =
    database instanceof Kysely || database.sqlite === null ? null : sqliteSaver(db, database.sqlite);
  const resultCache: ResultJsonCache = new WeakMap();
  return {
    async insert(e, audit) {
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto("runbook_executions")
          .values({
            id: e.id,
            runbook_name: e.runbook.name,
            runbook_hash: e.runbookHash,
            runbook: JSON.stringify(e.runbook),
            base_dir: e.baseDir,
            params: JSON.stringify(e.params),
            target: e.target,
            mode: e.mode,
            plan_hash: e.planHash,
            incident_id: e.incidentId,
            incident_labels: JSON.stringify(e.incidentLabels),
            requested_by: e.requestedBy,
            reason: e.reason,
            created_at: e.createdAt,
            ...mutable(e),
          })
          .execute();
        if (audit.length) await tx.insertInto("runbook_audit").values(auditRows(audit)).execute();
      });
    },
    async save(e, audit) {
      const m = mutable(e, resultCache);
      if (fastSave) return fastSave(e.id, m, auditRows(audit));
      // The executor saves after every step: fixed SQL text (no query building) keeps this cheap.
      await db.transaction().execute(async (tx) => {
        await sql`update runbook_executions set status = ${m.status}, cursor = ${m.cursor}, steps_run = ${m.steps_run},
          results = ${m.results}, rollback_stack = ${m.rollback_stack}, in_flight = ${m.in_flight}, waiting = ${m.waiting},
          error = ${m.error}, updated_at = ${m.updated_at}, finished_at = ${m.finished_at}, lease_owner = ${m.lease_owner},
          lease_until = ${m.lease_until} where id = ${e.id}`.execute(tx);
        if (audit.length)
          await sql`insert into runbook_audit (execution_id, at, actor, event, step_id, attempt, data) values ${sql.join(
            auditRows(audit).map(
              (a) =>
                sql`(${a.execution_id}, ${a.at}, ${a.actor}, ${a.event}, ${a.step_id}, ${a.attempt}, ${a.data})`,
            ),
          )}`.execute(tx);
      });
    },
    async get(id) {
      const r = await db.selectFrom("runbook_executions").selectAll().where("id", "=", id).executeTakeFirst();
      return r ? fromRow(r) : undefined;
    },
    async list(f: ExecutionFilter) {
      let q = db.selectFrom("runbook_executions").selectAll();
      if (f.status?.length) q = q.where("status", "in", [...f.status]);
      if (f.runbook) q = q.where("runbook_name", "=", f.runbook);
      if (f.target) q = q.where("target", "=", f.target);
      if (f.incidentId) q = q.where("incident_id", "=", f.incidentId);
      if (f.before) q = q.where("id", "<", f.before);
      const rows = await q.orderBy("id", "desc").limit(f.limit).execute();
      return rows.map(fromRow);
    },
    async orphans(now) {
      const rows = await db
        .selectFrom("runbook_executions")
        .selectAll()
        .where("status", "in", [...ACTIVE_STATUSES])
        .where("lease_until", "<", now)
        .orderBy("id")
        .execute();
      return rows.map(fromRow);
    },
    async claim(id, owner, until, now, takeFrom) {
      const r = await db
        .updateTable("runbook_executions")
        .set({ lease_owner: owner, lease_until: until })
        .where("id", "=", id)
        .where((eb) => {
          const ors = [
            eb("lease_until", "<", now),
            eb("lease_owner", "=", owner),
            eb("lease_owner", "is", null),
          ];
          if (takeFrom !== null) ors.push(eb("lease_owner", "=", takeFrom));
          return eb.or(ors);
        })
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async renew(owner, until) {
      await db
        .updateTable("runbook_executions")
        .set({ lease_until: until })
        .where("lease_owner", "=", owner)
        .where("status", "in", [...ACTIVE_STATUSES])
        .execute();
    },
    async countSince(runbook, since, except = []) {
      let q = db
        .selectFrom("runbook_executions")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("created_at", ">=", since)
        .where("mode", "=", "live");
      if (runbook !== null) q = q.where("runbook_name", "=", runbook);
      else if (except.length) q = q.where("runbook_name", "not in", [...except]);
      const r = await q.executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async lastFinishedOn(target) {
      const r = await db
        .selectFrom("runbook_executions")
        .select((eb) => eb.fn.max("finished_at").as("t"))
        .where("target", "=", target)
        .where("mode", "=", "live")
        .executeTakeFirst();
      return r?.t === null || r?.t === undefined ? null : Number(r.t);
    },
    async appendAudit(entries) {
      if (entries.length) await db.insertInto("runbook_audit").values(auditRows(entries)).execute();
    },
    async audit(executionId, limit): Promise<StoredAuditEntry[]> {
      let q = db.selectFrom("runbook_audit").selectAll();
      q =
        executionId === null
          ? q.where("execution_id", "is", null)
          : q.where("execution_id", "=", executionId);
      const rows = await q.orderBy("id", "asc").limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        executionId: r.execution_id,
        at: r.at,
        actor: r.actor,
        event: r.event as StoredAuditEntry["event"],
        stepId: r.step_id,
        attempt: r.attempt,
        data: parseJson(r.data),
      }));
    },
    async recordOutcome(o: Outcome) {
      await db
        .insertInto("runbook_outcomes")
        .values({
          signature: o.signature,
          runbook: o.runbook,
          incident_id: o.incidentId,
          execution_id: o.executionId,
          success: o.success ? 1 : 0,
          at: o.at,
        })
        .execute();
    },
    async outcomes(limit) {
      const rows = await db
        .selectFrom("runbook_outcomes")
        .selectAll()
        .orderBy("id", "desc")
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        signature: r.signature,
        runbook: r.runbook,
        incidentId: r.incident_id,
        executionId: r.execution_id,
        success: r.success === 1,
        at: r.at,
      }));
    },
  };
}
