import { z } from "zod";

/** Edge-of-the-system validation for a service graph from config or the tracing module. */
export const serviceGraphSchema = z.object({
  edges: z.array(
    z.object({
      caller: z.string().min(1),
      callee: z.string().min(1),
      rate: z.number().nonnegative().optional(),
    }),
  ),
});

/** A stored past incident used by the history prior. */
export const historyRecordSchema = z.object({
  signature: z.array(z.string().min(1)),
  confirmedService: z.string().min(1),
});
