import type { Selectable } from "kysely";
import { matcherToString, parseMatcher, type Matcher } from "../core/index.js";
import type { Silence, SilenceStore } from "../notify/index.js";
import type { Db } from "./database.js";
import { parseJson } from "./json.js";
import type { Tables } from "./schema.js";

function toMatcher(text: string): Matcher {
  const m = parseMatcher(text);
  if (m.status !== "ok") throw new Error(`stored matcher ${text} no longer parses: ${m.error}`);
  return m.value;
}

function toSilence(r: Selectable<Tables["silences"]>): Silence {
  return {
    id: r.id,
    matchers: parseJson<string[]>(r.matchers).map(toMatcher),
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    createdBy: r.created_by,
    comment: r.comment,
  };
}

export function createSilenceStore(db: Db): SilenceStore {
  return {
    async insert(s, now) {
      await db
        .insertInto("silences")
        .values({
          id: s.id,
          // Stored in their text form: a compiled regex does not survive JSON.
          matchers: JSON.stringify(s.matchers.map(matcherToString)),
          starts_at: s.startsAt,
          ends_at: s.endsAt,
          created_by: s.createdBy,
          comment: s.comment,
          created_at: now,
          expired_recorded: 0,
        })
        .execute();
    },
    async list(now, recentMs) {
      const rows = await db
        .selectFrom("silences")
        .selectAll()
        .where("ends_at", ">", now - recentMs)
        .orderBy("starts_at", "asc")
        .execute();
      return rows.map(toSilence);
    },
    async get(id) {
      const r = await db.selectFrom("silences").selectAll().where("id", "=", id).executeTakeFirst();
      return r ? toSilence(r) : undefined;
    },
    async expire(id, now) {
      const r = await db
        .updateTable("silences")
        .set({ ends_at: now })
        .where("id", "=", id)
        .where("ends_at", ">", now)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}
