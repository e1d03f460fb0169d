export {
  configSchema,
  serverConfigSchema,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_HMAC_MAX_SKEW_MS,
  DEFAULT_PORT,
} from "./schema.js";
export type { Config, ConfigInput } from "./schema.js";
export { loadConfig, validateConfig, parseYaml, applyEnv, ConfigError, ENV_PREFIX } from "./load.js";
export { configJsonSchema } from "./json-schema.js";
