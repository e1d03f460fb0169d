import { matchesAll, type Labels } from "../core/index.js";
import type { IncidentsConfig } from "./config.js";
import { SEVERITIES, type Severity } from "./model.js";

export function severityOf(labels: Labels, cfg: IncidentsConfig["severity"]): Severity {
  for (const rule of cfg.rules) if (matchesAll(rule.matchers, labels)) return rule.severity;
  const raw = labels[cfg.label];
  if (raw === undefined) return cfg.default;
  const upper = raw.toUpperCase();
  if ((SEVERITIES as readonly string[]).includes(upper)) return upper as Severity;
  return cfg.map[raw.toLowerCase()] ?? cfg.default;
}
