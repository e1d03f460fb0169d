import { z } from "zod";
import { describeIssues, ValidationError } from "../core/index.js";

/** Toxiproxy's TCP toxics (same names, attributes and units), plus HTTP-level faults for HTTP proxies. */
export const TCP_TOXIC_TYPES = [
  "latency",
  "bandwidth",
  "slow_close",
  "timeout",
  "reset_peer",
  "slicer",
  "limit_data",
] as const;
export const HTTP_TOXIC_TYPES = ["http_status", "http_delay", "http_abort"] as const;
export type TcpToxicType = (typeof TCP_TOXIC_TYPES)[number];
export type HttpToxicType = (typeof HTTP_TOXIC_TYPES)[number];
export type ToxicType = TcpToxicType | HttpToxicType;
export type Stream = "upstream" | "downstream";

const ms = z.number().nonnegative();
/** Attribute schemas; units follow Toxiproxy: milliseconds, KB/s (1 KB = 1000 bytes), bytes, microseconds. */
export const toxicAttributeSchemas = {
  latency: z.object({ latency: ms.describe("ms"), jitter: ms.default(0).describe("ms, uniform ±") }).strict(),
  bandwidth: z.object({ rate: z.number().positive().describe("KB/s") }).strict(),
  slow_close: z.object({ delay: ms.describe("ms before the close is passed on") }).strict(),
  timeout: z.object({ timeout: ms.default(0).describe("ms; 0 = hold forever") }).strict(),
  reset_peer: z.object({ timeout: ms.default(0).describe("ms before TCP RST") }).strict(),
  slicer: z
    .object({
      average_size: z.number().int().positive().describe("bytes"),
      size_variation: z.number().int().nonnegative().default(0).describe("bytes"),
      delay: z.number().nonnegative().default(0).describe("microseconds between slices"),
    })
    .strict(),
  limit_data: z.object({ bytes: z.number().int().nonnegative().describe("bytes, then close") }).strict(),
  http_status: z
    .object({
      status: z.number().int().min(100).max(599),
      body: z.string().default(""),
      path_prefix: z.string().optional(),
      method: z.string().optional(),
    })
    .strict(),
  http_delay: z
    .object({
      delay: ms.describe("ms"),
      jitter: ms.default(0),
      path_prefix: z.string().optional(),
      method: z.string().optional(),
    })
    .strict(),
  http_abort: z.object({ path_prefix: z.string().optional(), method: z.string().optional() }).strict(),
} as const;

export interface Toxic {
  name: string;
  type: ToxicType;
  stream: Stream;
  /** Probability in [0, 1] that the toxic applies to a connection (TCP) or request (HTTP). */
  toxicity: number;
  attributes: Record<string, number | string | undefined>;
}

export const toxicInputSchema = z
  .object({
    name: z.string().min(1).max(100).optional(),
    type: z.enum([...TCP_TOXIC_TYPES, ...HTTP_TOXIC_TYPES]),
    stream: z.enum(["upstream", "downstream"]).default("downstream"),
    toxicity: z.number().min(0).max(1).default(1),
    attributes: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ToxicInput = z.input<typeof toxicInputSchema>;

/** Validates a toxic, attributes included; throws a ValidationError listing every problem. */
export function parseToxic(input: unknown): Toxic {
  const base = toxicInputSchema.safeParse(input);
  if (!base.success)
    throw new ValidationError("invalid toxic", describeIssues(toxicInputSchema, base.error.issues));
  const schema = toxicAttributeSchemas[base.data.type];
  const attrs = schema.safeParse(base.data.attributes);
  if (!attrs.success)
    throw new ValidationError(
      `invalid attributes for ${base.data.type}`,
      describeIssues(schema, attrs.error.issues).map((d) => ({ ...d, path: `attributes.${d.path}` })),
    );
  return {
    name: base.data.name ?? `${base.data.type}_${base.data.stream}`,
    type: base.data.type,
    stream: base.data.stream,
    toxicity: base.data.toxicity,
    attributes: attrs.data,
  };
}
