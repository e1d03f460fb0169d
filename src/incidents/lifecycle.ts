import { ErrorCode, NovaError } from "../core/index.js";
import type { Incident, IncidentStatus, TimelineEntry } from "./model.js";

export type IncidentAction =
  | { type: "acknowledge" }
  | { type: "mitigate" }
  | { type: "resolve" }
  | { type: "close" }
  | { type: "assign"; assignee: string }
  | { type: "note"; text: string };

/** Which status each manual status action may start from. */
const ALLOWED_FROM: Record<"acknowledge" | "mitigate" | "resolve" | "close", readonly IncidentStatus[]> = {
  acknowledge: ["triggered"],
  mitigate: ["triggered", "acknowledged"],
  resolve: ["triggered", "acknowledged", "mitigated"],
  close: ["resolved"],
};
const TARGET: Record<keyof typeof ALLOWED_FROM, IncidentStatus> = {
  acknowledge: "acknowledged",
  mitigate: "mitigated",
  resolve: "resolved",
  close: "closed",
};

export interface ActionOutcome {
  incident: Incident;
  timeline: TimelineEntry[];
  /** False when the action was a repeat that changes nothing (acknowledging an acknowledged incident). */
  changed: boolean;
}

/**
 * Applies a human's action. Repeating the action that produced the current status is a no-op, so
 * clients may retry; moving backwards (acknowledging a resolved incident) is an INVALID_TRANSITION.
 */
export function applyAction(
  inc: Incident,
  action: IncidentAction,
  actor: string,
  now: number,
): ActionOutcome {
  const entry = (kind: TimelineEntry["kind"], data: Record<string, unknown>): TimelineEntry => ({
    incidentId: inc.id,
    at: now,
    kind,
    actor,
    data,
  });
  switch (action.type) {
    case "note":
      return {
        incident: { ...inc, lastActivityAt: now },
        timeline: [entry("note", { text: action.text })],
        changed: true,
      };
    case "assign":
      if (inc.assignee === action.assignee) return { incident: inc, timeline: [], changed: false };
      return {
        incident: { ...inc, assignee: action.assignee, lastActivityAt: now },
        timeline: [entry("assigned", { from: inc.assignee, to: action.assignee })],
        changed: true,
      };
    case "acknowledge":
    case "mitigate":
    case "resolve":
    case "close": {
      const to = TARGET[action.type];
      if (inc.status === to) return { incident: inc, timeline: [], changed: false };
      if (!ALLOWED_FROM[action.type].includes(inc.status)) {
        throw new NovaError(
          ErrorCode.InvalidTransition,
          `cannot ${action.type} an incident that is ${inc.status}`,
        );
      }
      const next: Incident = { ...inc, status: to, lastActivityAt: now };
      if (to === "acknowledged") next.acknowledgedAt = now;
      if (to === "mitigated") {
        next.mitigatedAt = now;
        next.acknowledgedAt ??= now;
      }
      if (to === "resolved") {
        next.resolvedAt = now;
        next.acknowledgedAt ??= now;
      }
      if (to === "closed") next.closedAt = now;
      const tl = [entry("status_changed", { from: inc.status, to })];
      if (to === "acknowledged") tl.unshift(entry("acknowledged", {}));
      return { incident: next, timeline: tl, changed: true };
    }
  }
}
