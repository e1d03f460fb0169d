export {
  ErrorCode,
  NovaError,
  ValidationError,
  NotFoundError,
  ConflictError,
  AuthError,
  isNovaError,
} from "./errors.js";
export type { ErrorDetail } from "./errors.js";
export { ok, fail } from "./result.js";
export type { Result } from "./result.js";
export { systemClock, ManualClock } from "./clock.js";
export type { Clock } from "./clock.js";
export { parseDuration, formatDuration, durationSchema } from "./duration.js";
export { fingerprint, pick, labelsToString } from "./labels.js";
export type { Labels } from "./labels.js";
export {
  parseMatcher,
  matcherToString,
  matches,
  matchesAll,
  matcherSchema,
  MAX_MATCHER_LENGTH_CHARS,
} from "./matchers.js";
export type { Matcher, MatchOp } from "./matchers.js";
export { newId } from "./ids.js";
export { createLogger, silentLogger } from "./logger.js";
export type { Logger, LogLevel } from "./logger.js";
export { describeIssues, formatPath, editDistance } from "./zod-issues.js";
