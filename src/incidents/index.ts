export * from "./model.js";
export {
  incidentsConfigSchema,
  DEFAULT_GROUP_WINDOW_MS,
  DEFAULT_REOPEN_WINDOW_MS,
  DEFAULT_FLAP_THRESHOLD,
  DEFAULT_FLAP_WINDOW_MS,
} from "./config.js";
export type { IncidentsConfig } from "./config.js";
export { severityOf } from "./severity.js";
export { planAlerts, groupKeyOf } from "./planner.js";
export type { IngestState, Plan, AlertChange } from "./planner.js";
export { applyAction } from "./lifecycle.js";
export type { IncidentAction, ActionOutcome } from "./lifecycle.js";
export type { IncidentStore, IncidentFilter } from "./store.js";
export { IncidentService } from "./service.js";
export type { IncidentServiceDeps, IncidentEvents, IngestSummary } from "./service.js";
export { createIncidentMetrics } from "./metrics.js";
export type { IncidentMetrics } from "./metrics.js";
export { postmortemMarkdown } from "./postmortem.js";
