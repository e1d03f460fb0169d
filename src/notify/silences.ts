import { z } from "zod";
import { matcherSchema, matchesAll, type Labels, type Matcher } from "../core/index.js";

/** A silence mutes matching alerts between startsAt and endsAt (ms). */
export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

export const silenceInputSchema = z
  .strictObject({
    matchers: z.array(matcherSchema).min(1, "a silence needs at least one matcher"),
    startsAt: z.number().int().nonnegative(),
    endsAt: z.number().int().nonnegative(),
    createdBy: z.string().min(1),
    comment: z.string().min(1),
  })
  .refine((s) => s.endsAt > s.startsAt, { message: "endsAt must be after startsAt", path: ["endsAt"] });
export type SilenceInput = z.output<typeof silenceInputSchema>;

export function silenceActive(s: Silence, now: number): boolean {
  return s.startsAt <= now && now < s.endsAt;
}

/** The first active silence muting these labels, if any. */
export function findSilence(silences: readonly Silence[], labels: Labels, now: number): Silence | undefined {
  return silences.find((s) => silenceActive(s, now) && matchesAll(s.matchers, labels));
}

/** Persistence of silences. Implemented in storage/. */
export interface SilenceStore {
  insert(s: Silence, now: number): Promise<void>;
  /** Silences that have not ended by `now` (active or scheduled), plus those ended within `recentMs`. */
  list(now: number, recentMs: number): Promise<Silence[]>;
  get(id: string): Promise<Silence | undefined>;
  /** Ends a silence now; false if it does not exist or has already ended. */
  expire(id: string, now: number): Promise<boolean>;
}
