export { ACTION_VERBS } from "./action-provider.js";
export type { ActionVerb, ActionRequest, ActionOutput, ActionProvider } from "./action-provider.js";
export { LocalProcessProvider, LOCAL_MAX_REPLICAS, LOCAL_STOP_GRACE_MS } from "./local-process.js";
export type { LocalProcessSpec } from "./local-process.js";
