import type { Selectable } from "kysely";
import type { ApiToken, Role, TokenStore } from "../http/index.js";
import type { Db } from "./database.js";
import type { Tables } from "./schema.js";

function toToken(r: Selectable<Tables["api_tokens"]>): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
  };
}

export function createTokenStore(db: Db): TokenStore {
  return {
    async insert(t, hash) {
      await db
        .insertInto("api_tokens")
        .values({
          id: t.id,
          name: t.name,
          role: t.role,
          token_hash: hash,
          created_at: t.createdAt,
          last_used_at: null,
          revoked_at: null,
        })
        .execute();
    },
    async findByHash(hash) {
      const r = await db
        .selectFrom("api_tokens")
        .selectAll()
        .where("token_hash", "=", hash)
        .executeTakeFirst();
      return r ? toToken(r) : undefined;
    },
    async list() {
      return (await db.selectFrom("api_tokens").selectAll().orderBy("created_at", "asc").execute()).map(
        toToken,
      );
    },
    async revoke(id, now) {
      const r = await db
        .updateTable("api_tokens")
        .set({ revoked_at: now })
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async touch(id, now) {
      await db.updateTable("api_tokens").set({ last_used_at: now }).where("id", "=", id).execute();
    },
  };
}
