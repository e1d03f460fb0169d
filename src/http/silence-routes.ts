import { z } from "zod";
import {
  NotFoundError,
  ValidationError,
  durationSchema,
  matcherSchema,
  matcherToString,
  newId,
  type Clock,
} from "../core/index.js";
import type { Silence, SilenceStore } from "../notify/index.js";
import type { Api } from "./http-app.js";

/** Silences that ended this recently are still listed (and still passed to notify, so it can record expiry). */
export const RECENT_SILENCES_MS = 24 * 3_600_000;
/** A silence without an end or duration lasts this long. */
export const DEFAULT_SILENCE_DURATION_MS = 2 * 3_600_000;

const createBody = z.object({
  matchers: z
    .array(matcherSchema)
    .min(1, { message: "a silence needs at least one matcher" })
    .describe('Alertmanager matchers, e.g. "service=api"'),
  startsAt: z.iso.datetime({ offset: true }).optional().describe("RFC 3339; default now"),
  endsAt: z.iso.datetime({ offset: true }).optional().describe("RFC 3339; or give duration"),
  duration: durationSchema().optional().describe('e.g. "2h"; default 2h when endsAt is absent'),
  comment: z.string().min(1).max(2000),
});

export interface SilenceRouteDeps {
  silences: SilenceStore;
  clock: Clock;
  /** Called after every change, so notifications see the new set. */
  changed(): Promise<void>;
}

export function silenceView(s: Silence, now: number) {
  const state = now < s.startsAt ? "pending" : now < s.endsAt ? "active" : "expired";
  return {
    id: s.id,
    matchers: s.matchers.map(matcherToString),
    startsAt: new Date(s.startsAt).toISOString(),
    endsAt: new Date(s.endsAt).toISOString(),
    createdBy: s.createdBy,
    comment: s.comment,
    state,
  };
}

export function registerSilenceRoutes(api: Api, deps: SilenceRouteDeps): void {
  api.route(
    {
      method: "get",
      path: "/api/v1/silences",
      summary: "Silences that are active, pending, or ended in the last 24 h",
      tag: "silences",
      auth: "viewer",
      responses: { 200: "silences" },
    },
    async (c) => {
      const now = deps.clock.now();
      return c.json({
        silences: (await deps.silences.list(now, RECENT_SILENCES_MS)).map((s) => silenceView(s, now)),
      });
    },
  );
  api.route(
    {
      method: "post",
      path: "/api/v1/silences",
      summary: "Create a silence: matching alerts do not notify while it is active",
      tag: "silences",
      auth: "operator",
      body: createBody,
      responses: { 201: "created", 400: "invalid silence" },
    },
    async (c, { body, actor }) => {
      const b = body as z.output<typeof createBody>;
      const now = deps.clock.now();
      const startsAt = b.startsAt ? Date.parse(b.startsAt) : now;
      const endsAt = b.endsAt ? Date.parse(b.endsAt) : startsAt + (b.duration ?? DEFAULT_SILENCE_DURATION_MS);
      if (endsAt <= startsAt)
        throw new ValidationError("endsAt: must be after startsAt", [
          { path: "endsAt", message: "must be after startsAt" },
        ]);
      if (endsAt <= now)
        throw new ValidationError("endsAt: must be in the future", [
          { path: "endsAt", message: "must be in the future" },
        ]);
      const s: Silence = {
        id: newId("sil", now),
        matchers: b.matchers,
        startsAt,
        endsAt,
        createdBy: actor,
        comment: b.comment,
      };
      await deps.silences.insert(s, now);
      await deps.changed();
      return c.json({ silence: silenceView(s, now) }, 201);
    },
  );
  api.route(
    {
      method: "delete",
      path: "/api/v1/silences/:id",
      summary: "Expire a silence now",
      tag: "silences",
      auth: "operator",
      responses: { 200: "expired", 404: "no such active silence" },
    },
    async (c) => {
      const id = c.req.param("id") as string;
      const now = deps.clock.now();
      if (!(await deps.silences.expire(id, now))) throw new NotFoundError("active silence", id);
      await deps.changed();
      const s = await deps.silences.get(id);
      return c.json({ silence: s ? silenceView(s, now) : null });
    },
  );
}
