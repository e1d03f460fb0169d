// Runbook triggers use core's matchers (Alertmanager semantics: anchored regexes, a missing label is "").
export { matches, matchesAll } from "../core/index.js";
