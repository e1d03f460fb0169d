import type { Db } from "./database.js";
import { parseJson } from "./json.js";

/** Small named values that must survive restarts (the kill switch, dispatcher state). */
export interface SettingsStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, now: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export function createSettingsStore(db: Db): SettingsStore {
  return {
    async get<T>(key: string) {
      const r = await db.selectFrom("settings").select("value").where("key", "=", key).executeTakeFirst();
      return r ? parseJson<T>(r.value) : undefined;
    },
    async set(key, value, now) {
      const v = JSON.stringify(value);
      await db
        .insertInto("settings")
        .values({ key, value: v, updated_at: now })
        .onConflict((oc) => oc.column("key").doUpdateSet({ value: v, updated_at: now }))
        .execute();
    },
    async delete(key) {
      await db.deleteFrom("settings").where("key", "=", key).execute();
    },
  };
}
