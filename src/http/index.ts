export { ROLES, roleAtLeast, hashToken, generateTokenSecret, signBody, verifySignature } from "./auth.js";
export type { Role, ApiToken, TokenStore } from "./auth.js";
export { Api, registerCoreRoutes, createToken } from "./http-app.js";
export type { HttpCoreDeps, HttpEnv, Principal, RouteContext, ReceiverAuthOptions } from "./http-app.js";
export {
  registerIncidentRoutes,
  incidentView,
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
} from "./incident-routes.js";
export { errorResponse } from "./error-mapping.js";
export type { RouteDoc } from "./openapi.js";
export {
  registerSilenceRoutes,
  silenceView,
  RECENT_SILENCES_MS,
  DEFAULT_SILENCE_DURATION_MS,
} from "./silence-routes.js";
export type { SilenceRouteDeps } from "./silence-routes.js";
export { registerTelemetryRoutes } from "./telemetry-routes.js";
export type { TelemetryRouteDeps } from "./telemetry-routes.js";
