import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "../../src/storage/index.js";

export const PG_URL = process.env["NOVASRE_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

async function probePostgres(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return undefined;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const pgProblem = await probePostgres();
if (pgProblem !== undefined) {
  if (process.env["CI"]) throw new Error(`PostgreSQL at ${PG_URL} is required in CI: ${pgProblem}`);
  console.warn(
    `[novasre tests] PostgreSQL suites skipped: ${PG_URL} unreachable (${pgProblem}). Set NOVASRE_TEST_PG_URL to run them.`,
  );
}

export interface Backend {
  name: "sqlite" | "postgres";
  available: boolean;
  /** A fresh, migrated, empty database. PostgreSQL gets a schema of its own, dropped by `dispose`. */
  open(): Promise<Database>;
}

export const backends: Backend[] = [
  { name: "sqlite", available: true, open: () => openDatabase("sqlite::memory:") },
  {
    name: "postgres",
    available: pgProblem === undefined,
    open: () => openDatabase(PG_URL, { schema: `t_${randomBytes(6).toString("hex")}`, poolMax: 4 }),
  },
];

/** Closes a database from `open`. Test schemas are dropped once, after the whole run (global-setup.ts). */
export async function dispose(db: Database): Promise<void> {
  await db.close();
}
