import { z } from "zod";
import type { Role } from "./auth.js";

export interface RouteDoc {
  method: "get" | "post" | "put" | "delete";
  /** Hono path syntax (`/api/v1/incidents/:id`); converted to OpenAPI's `{id}`. */
  path: string;
  summary: string;
  tag: string;
  /** Minimum role; "receiver" = bearer token of operator role or an HMAC signature; undefined = open. */
  auth?: Role | "receiver";
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Status -> description. */
  responses: Record<number, string>;
  responseSchema?: z.ZodType;
}

const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

function jsonSchema(s: z.ZodType, io: "input" | "output"): unknown {
  const out = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Record<string, unknown>;
  delete out["$schema"];
  return out;
}

/** Builds the OpenAPI 3.1 document from the same descriptors that registered the routes. */
export function buildOpenApi(routes: readonly RouteDoc[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = r.path.replace(/:([A-Za-z_]+)/g, "{$1}");
    const params = [...r.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    if (r.query) {
      for (const [name, s] of Object.entries(r.query.shape)) {
        params.push({
          name,
          in: "query",
          required: false,
          schema: jsonSchema(s as z.ZodType, "input") as { type: string },
        });
      }
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: params,
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([status, description]) => {
          const code = Number(status);
          const schema =
            code >= 400
              ? jsonSchema(errorSchema, "output")
              : r.responseSchema
                ? jsonSchema(r.responseSchema, "output")
                : undefined;
          return [
            status,
            schema ? { description, content: { "application/json": { schema } } } : { description },
          ];
        }),
      ),
    };
    if (r.auth) op["security"] = r.auth === "receiver" ? [{ bearer: [] }, { hmac: [] }] : [{ bearer: [] }];
    if (r.auth && r.auth !== "receiver") op["x-required-role"] = r.auth;
    if (r.body)
      op["requestBody"] = {
        required: true,
        content: { "application/json": { schema: jsonSchema(r.body, "input") } },
      };
    (paths[p] ??= {})[r.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "NovaCron SRE API", version },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "API token from `novasre token create`" },
        hmac: {
          type: "apiKey",
          in: "header",
          name: "X-NovaSRE-Signature",
          description:
            "sha256=HEX of HMAC-SHA256(secret, `${X-NovaSRE-Timestamp}.${body}`); timestamp in unix seconds",
        },
      },
    },
    paths,
  };
}
