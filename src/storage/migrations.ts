import { type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider } from "kysely";

/**
 * Migrations live in code (not files found at run time) so the built package carries them and both
 * dialects run the same list. Types are chosen to mean the same on SQLite and PostgreSQL: bigint for
 * epoch milliseconds, text for JSON.
 */
function migrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    "0001_foundation": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("api_tokens")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("role", "text", (c) => c.notNull())
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("last_used_at", "bigint")
          .addColumn("revoked_at", "bigint")
          .execute();

        await db.schema
          .createTable("incidents")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("key", "text", (c) => c.notNull())
          .addColumn("group_key", "text", (c) => c.notNull())
          .addColumn("title", "text", (c) => c.notNull())
          .addColumn("severity", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("services", "text", (c) => c.notNull())
          .addColumn("labels", "text", (c) => c.notNull())
          .addColumn("assignee", "text")
          .addColumn("detected_at", "bigint", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("acknowledged_at", "bigint")
          .addColumn("mitigated_at", "bigint")
          .addColumn("resolved_at", "bigint")
          .addColumn("closed_at", "bigint")
          .addColumn("last_activity_at", "bigint", (c) => c.notNull())
          .addColumn("reopen_count", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex("incidents_group_key")
          .on("incidents")
          .columns(["group_key", "status"])
          .execute();
        await db.schema
          .createIndex("incidents_status_created")
          .on("incidents")
          .columns(["status", "created_at"])
          .execute();

        await db.schema
          .createTable("alerts")
          .addColumn("fingerprint", "text", (c) => c.primaryKey())
          .addColumn("source", "text", (c) => c.notNull())
          .addColumn("labels", "text", (c) => c.notNull())
          .addColumn("annotations", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("starts_at", "bigint", (c) => c.notNull())
          .addColumn("ends_at", "bigint")
          .addColumn("generator_url", "text")
          .addColumn("incident_id", "text")
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("transitions", "text", (c) => c.notNull())
          .addColumn("flapping", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex("alerts_incident").on("alerts").column("incident_id").execute();

        await db.schema
          .createTable("incident_alerts")
          .addColumn("incident_id", "text", (c) => c.notNull())
          .addColumn("fingerprint", "text", (c) => c.notNull())
          .addColumn("joined_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("incident_alerts_pk", ["incident_id", "fingerprint"])
          .execute();

        await db.schema
          .createTable("timeline")
          .addColumn("id", "integer", (c) =>
            dialect === "postgres"
              ? c.primaryKey().generatedByDefaultAsIdentity()
              : c.primaryKey().autoIncrement(),
          )
          .addColumn("incident_id", "text", (c) => c.notNull())
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("data", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("timeline_incident")
          .on("timeline")
          .columns(["incident_id", "id"])
          .execute();

        await db.schema
          .createTable("silences")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("matchers", "text", (c) => c.notNull())
          .addColumn("starts_at", "bigint", (c) => c.notNull())
          .addColumn("ends_at", "bigint", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("comment", "text", (c) => c.notNull())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("expired_recorded", "integer", (c) => c.notNull().defaultTo(0))
          .execute();

        await db.schema
          .createTable("outbox")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("idempotency_key", "text", (c) => c.notNull().unique())
          .addColumn("channel", "text", (c) => c.notNull())
          .addColumn("payload", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
          .addColumn("lease_until", "bigint", (c) => c.notNull().defaultTo(0))
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("sent_at", "bigint")
          .addColumn("last_error", "text")
          .addColumn("ref", "text")
          .execute();
        await db.schema
          .createIndex("outbox_due")
          .on("outbox")
          .columns(["status", "next_attempt_at"])
          .execute();

        await db.schema
          .createTable("channel_refs")
          .addColumn("channel", "text", (c) => c.notNull())
          .addColumn("incident_key", "text", (c) => c.notNull())
          .addColumn("ref", "text", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addPrimaryKeyConstraint("channel_refs_pk", ["channel", "incident_key"])
          .execute();

        await db.schema
          .createTable("settings")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
      },
    },
    "0002_runbooks": {
      async up(db: Kysely<unknown>) {
        const autoId = (c: ColumnDefinitionBuilder) =>
          dialect === "postgres"
            ? c.primaryKey().generatedByDefaultAsIdentity()
            : c.primaryKey().autoIncrement();
        await db.schema
          .createTable("runbook_executions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("runbook_name", "text", (c) => c.notNull())
          .addColumn("runbook_hash", "text", (c) => c.notNull())
          .addColumn("runbook", "text", (c) => c.notNull())
          .addColumn("base_dir", "text")
          .addColumn("params", "text", (c) => c.notNull())
          .addColumn("target", "text")
          .addColumn("mode", "text", (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("cursor", "integer", (c) => c.notNull())
          .addColumn("steps_run", "integer", (c) => c.notNull())
          .addColumn("results", "text", (c) => c.notNull())
          .addColumn("rollback_stack", "text", (c) => c.notNull())
          .addColumn("in_flight", "text")
          .addColumn("waiting", "text")
          .addColumn("plan_hash", "text", (c) => c.notNull())
          .addColumn("incident_id", "text")
          .addColumn("incident_labels", "text", (c) => c.notNull())
          .addColumn("requested_by", "text", (c) => c.notNull())
          .addColumn("reason", "text", (c) => c.notNull())
          .addColumn("error", "text")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .addColumn("finished_at", "bigint")
          .addColumn("lease_owner", "text")
          .addColumn("lease_until", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("runbook_exec_status")
          .on("runbook_executions")
          .columns(["status", "lease_until"])
          .execute();
        await db.schema
          .createIndex("runbook_exec_name")
          .on("runbook_executions")
          .columns(["runbook_name", "created_at"])
          .execute();
        await db.schema
          .createIndex("runbook_exec_created")
          .on("runbook_executions")
          .column("created_at")
          .execute();
        await db.schema
          .createIndex("runbook_exec_target")
          .on("runbook_executions")
          .columns(["target", "finished_at"])
          .execute();
        await db.schema
          .createTable("runbook_audit")
          .addColumn("id", "integer", autoId)
          .addColumn("execution_id", "text")
          .addColumn("at", "bigint", (c) => c.notNull())
          .addColumn("actor", "text", (c) => c.notNull())
          .addColumn("event", "text", (c) => c.notNull())
          .addColumn("step_id", "text")
          .addColumn("attempt", "integer")
          .addColumn("data", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("runbook_audit_exec")
          .on("runbook_audit")
          .columns(["execution_id", "id"])
          .execute();
        await db.schema
          .createTable("runbook_outcomes")
          .addColumn("id", "integer", autoId)
          .addColumn("signature", "text", (c) => c.notNull())
          .addColumn("runbook", "text", (c) => c.notNull())
          .addColumn("incident_id", "text", (c) => c.notNull())
          .addColumn("execution_id", "text", (c) => c.notNull())
          .addColumn("success", "integer", (c) => c.notNull())
          .addColumn("at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("runbook_outcomes_sig")
          .on("runbook_outcomes")
          .columns(["signature", "at"])
          .execute();
      },
    },
  };
}

export type SqlDialect = "sqlite" | "postgres";

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(dialect)) };
}

/** Used by tests to tell an empty database from a migrated one. */
export async function tableExists(db: Kysely<unknown>, name: string): Promise<boolean> {
  const tables = await db.introspection.getTables();
  return tables.some((t) => t.name === name);
}
