import { z } from "zod";
import { configSchema } from "./schema.js";

/** JSON Schema of the config file's input form (what people write), for editors. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
}
