import { formatDuration, labelsToString } from "../core/index.js";
import { incidentTimings, type Incident, type StoredAlert, type StoredTimelineEntry } from "./model.js";

const iso = (t: number) => new Date(t).toISOString();
const secs = (s: number | null) => (s === null ? "n/a" : formatDuration(s * 1000));

const str = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

function describe(e: StoredTimelineEntry): string {
  const d = e.data;
  switch (e.kind) {
    case "opened":
      return `Incident opened (${str(d["severity"])}): ${str(d["title"])}`;
    case "alert_fired":
    case "alert_joined":
      return `Alert ${e.kind === "alert_joined" ? "joined" : "fired"}: ${labelsToString((d["labels"] ?? {}) as Record<string, string>)}`;
    case "alert_resolved":
      return `Alert resolved: ${labelsToString((d["labels"] ?? {}) as Record<string, string>)}`;
    case "alert_flapping":
      return `Alert ${str(d["fingerprint"])} is flapping (${str(d["flips"])} flips); it no longer pages`;
    case "severity_changed":
      return `Severity ${str(d["from"])} -> ${str(d["to"])}`;
    case "status_changed":
      return `Status ${str(d["from"])} -> ${str(d["to"])}${d["reason"] ? ` (${str(d["reason"])})` : ""}`;
    case "reopened":
      return "Reopened: an alert fired again";
    case "acknowledged":
      return "Acknowledged";
    case "assigned":
      return `Assigned to ${str(d["to"])}`;
    case "note":
      return `Note: ${str(d["text"])}`;
    case "notified":
      return `Notified ${str(d["channel"])} (${str(d["kind"] ?? "")})`;
    case "notify_failed":
      return `Notification to ${str(d["channel"])} failed for good: ${str(d["error"])}`;
    case "muted":
      return `${str(d["count"])} alert(s) ${str(d["reason"])}${d["silenceId"] ? ` by silence ${str(d["silenceId"])}` : ""}`;
    case "silence_expired":
      return `Silence ${str(d["silenceId"])} expired`;
    case "diagnosed":
      return `Root cause ranked: ${str(d["service"])}${d["kind"] ? ` (${str(d["kind"])})` : ""}, confidence ${str(d["confidence"])}`;
  }
}

/** A Markdown postmortem draft: the facts from the timeline, and headings for what only people can write. */
export function postmortemMarkdown(
  inc: Incident,
  timeline: readonly StoredTimelineEntry[],
  alerts: readonly StoredAlert[],
): string {
  const t = incidentTimings(inc);
  const lines: string[] = [
    `# Postmortem: ${inc.title}`,
    "",
    `*Draft generated from incident \`${inc.id}\`. Edit before sharing.*`,
    "",
    "## Summary",
    "",
    `| | |`,
    `|---|---|`,
    `| Severity | ${inc.severity} |`,
    `| Status | ${inc.status} |`,
    `| Services | ${inc.services.join(", ") || "unknown"} |`,
    `| Started | ${iso(inc.detectedAt)} |`,
    `| Opened | ${iso(inc.createdAt)} |`,
    `| Resolved | ${inc.resolvedAt === null ? "not yet" : iso(inc.resolvedAt)} |`,
    `| Time to detect | ${secs(t.timeToDetect)} |`,
    `| Time to acknowledge | ${secs(t.timeToAcknowledge)} |`,
    `| Time to mitigate | ${secs(t.timeToMitigate)} |`,
    `| Time to resolve | ${secs(t.timeToResolve)} |`,
    `| Assignee | ${inc.assignee ?? "none"} |`,
    "",
    "## Impact",
    "",
    "_Who and what was affected, for how long._",
    "",
    "## Alerts",
    "",
  ];
  for (const a of alerts) {
    const summary = a.annotations["summary"] ?? a.annotations["description"] ?? "";
    lines.push(
      `- \`${labelsToString(a.labels)}\` ${a.status}, from ${iso(a.startsAt)}${summary ? `: ${summary}` : ""}`,
    );
  }
  if (!alerts.length) lines.push("_none recorded_");
  lines.push("", "## Timeline (UTC)", "");
  for (const e of timeline) lines.push(`- ${iso(e.at)} — ${describe(e)} _(${e.actor})_`);
  lines.push(
    "",
    "## Root cause",
    "",
    "_What failed and why._",
    "",
    "## What went well",
    "",
    "## What went badly",
    "",
    "## Action items",
    "",
    "- [ ] ",
    "",
  );
  return lines.join("\n");
}
