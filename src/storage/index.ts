export { openDatabase, dialectOf, DEFAULT_PG_POOL_MAX } from "./database.js";
export type { Database, Db, OpenOptions } from "./database.js";
export type { SqlDialect } from "./migrations.js";
export { createIncidentStore } from "./incident-store.js";
export { createTokenStore } from "./token-store.js";
export { createSettingsStore } from "./settings-store.js";
export type { SettingsStore } from "./settings-store.js";
export { createRunbookStore } from "./runbook-store.js";
