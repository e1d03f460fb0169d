import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from "kysely";
import { NovaError, ErrorCode } from "../core/index.js";
import { migrationProvider, type SqlDialect } from "./migrations.js";
import type { Tables } from "./schema.js";

export type Db = Kysely<Tables>;

/** The better-sqlite3 connection under a SQLite `Db`, for hot paths that prepare their statements once. */
export type SqliteConnection = SqliteDatabase.Database;

export interface Database {
  readonly db: Db;
  readonly dialect: SqlDialect;
  /**
   * SQLite only (else null): the one connection Kysely uses. Whoever uses it directly must not run
   * while a Kysely transaction is open on it (`inTransaction`); see `createRunbookStore`.
   */
  readonly sqlite: SqliteConnection | null;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL only: the schema to use (created if missing). Tests use one schema per suite. */
  schema?: string;
  /** PostgreSQL pool size. */
  poolMax?: number;
}

/** Default PostgreSQL pool size: enough for the API and background workers of one replica. */
export const DEFAULT_PG_POOL_MAX = 10;

// pg returns int8 as strings to protect values beyond 2^53; our bigints are epoch milliseconds.
pg.types.setTypeParser(20, (v) => Number(v));

export function dialectOf(url: string): SqlDialect {
  return /^postgres(ql)?:\/\//.test(url) ? "postgres" : "sqlite";
}

function sqlitePath(url: string): string {
  const p = url.replace(/^sqlite:(\/\/)?/, "").replace(/^file:/, "");
  return p === "" ? ":memory:" : p;
}

/** Compiled statements kept per SQLite connection; our queries have a few hundred distinct shapes at most. */
export const SQLITE_STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing is a large share of a small query's cost in SQLite.
 * better-sqlite3 statements are reusable, so keep the recent ones by SQL text.
 */
function withStatementCache(raw: SqliteDatabase.Database): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = raw.prepare.bind(raw);
  return new Proxy(raw, {
    get(target, prop, receiver) {
      if (prop !== "prepare") return Reflect.get(target, prop, receiver) as unknown;
      return (source: string) => {
        let stmt = cache.get(source);
        if (stmt) {
          cache.delete(source);
        } else {
          stmt = prepare(source);
          if (cache.size >= SQLITE_STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
        }
        cache.set(source, stmt);
        return stmt;
      };
    },
  });
}

/** Opens the database named by `url` (`sqlite:PATH`, `sqlite::memory:` or `postgres://...`) and migrates it. */
export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Database> {
  const dialect = dialectOf(url);
  let db: Db;
  let sqliteConn: SqliteConnection | null = null;
  if (dialect === "sqlite") {
    const path = sqlitePath(url);
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    let raw: SqliteDatabase.Database;
    try {
      raw = new SqliteDatabase(path);
    } catch (e) {
      throw new NovaError(
        ErrorCode.Unavailable,
        `cannot open SQLite database ${path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    // WAL lets readers proceed during writes; NORMAL sync is durable across process crashes in WAL mode.
    raw.pragma("journal_mode = WAL");
    raw.pragma("synchronous = NORMAL");
    raw.pragma("busy_timeout = 5000");
    raw.pragma("foreign_keys = ON");
    sqliteConn = raw;
    db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  } else {
    const schema = opts.schema;
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolMax ?? DEFAULT_PG_POOL_MAX,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    pool.on("error", () => {
      // An idle client lost its connection; the pool replaces it. Queries in flight see their own error.
    });
    db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
    try {
      if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
      else await sql`select 1`.execute(db);
    } catch (e) {
      await db.destroy();
      throw new NovaError(ErrorCode.Unavailable, `cannot connect to PostgreSQL: ${(e as Error).message}`, {
        cause: e,
        retryable: true,
      });
    }
  }

  // Kysely looks for its migration tables across all schemas unless told which; with a schema per
  // test suite (or per tenant) that would find another schema's tables.
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    ...(dialect === "postgres" && opts.schema ? { migrationTableSchema: opts.schema } : {}),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw new NovaError(
      ErrorCode.Internal,
      `database migration failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      { cause: error },
    );
  }

  return {
    db,
    dialect,
    sqlite: sqliteConn,
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}
