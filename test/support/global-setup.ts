import pg from "pg";

const PG_URL = process.env["NOVASRE_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Test suites get a PostgreSQL schema each (`t_<random>`). They are dropped here, before and after the
 * whole run, never while suites run: dropping a schema while another worker's migrator introspects the
 * catalog makes that introspection fail.
 */
async function dropTestSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
  } catch {
    return; // no PostgreSQL here: the suites that need it say so and skip
  }
  try {
    const { rows } = await client.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname ~ '^t_[0-9a-f]{12}$'",
    );
    for (const r of rows) await client.query(`drop schema if exists "${r.nspname}" cascade`);
  } finally {
    await client.end();
  }
}

export async function setup(): Promise<void> {
  await dropTestSchemas();
}

export async function teardown(): Promise<void> {
  await dropTestSchemas();
}
