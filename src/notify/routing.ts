import { matchesAll, type Labels, type Matcher } from "../core/index.js";
import type { NotifyConfig, RateLimitConfig, RouteConfig } from "./config.js";
import type { NotifyAlert } from "./types.js";

/** A route with every inherited field resolved. */
export interface CompiledRoute {
  /** Stable address in the tree, written like config paths: `root`, `root.routes[0].routes[2]`. */
  path: string;
  matchers: Matcher[];
  receiver: string | undefined;
  continue: boolean;
  /** Label names to group by; `["..."]` in config means every label (groupAll). */
  groupBy: string[];
  groupAll: boolean;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  rateLimit: RateLimitConfig | undefined;
  routes: CompiledRoute[];
}

export const ROOT_ROUTE_PATH = "root";

export function compileRoutes(cfg: NotifyConfig): CompiledRoute {
  const root: CompiledRoute = {
    path: ROOT_ROUTE_PATH,
    matchers: [],
    receiver: cfg.receiver,
    continue: false,
    groupBy: cfg.group_by.filter((g) => g !== "..."),
    groupAll: cfg.group_by.includes("..."),
    groupWaitMs: cfg.group_wait,
    groupIntervalMs: cfg.group_interval,
    repeatIntervalMs: cfg.repeat_interval,
    rateLimit: cfg.rate_limit,
    routes: [],
  };
  root.routes = cfg.routes.map((r, i) => compileChild(r, root, `${ROOT_ROUTE_PATH}.routes[${i}]`));
  return root;
}

function compileChild(r: RouteConfig, parent: CompiledRoute, path: string): CompiledRoute {
  const node: CompiledRoute = {
    path,
    matchers: r.matchers,
    receiver: r.receiver ?? parent.receiver,
    continue: r.continue,
    groupBy: r.group_by ? r.group_by.filter((g) => g !== "...") : parent.groupBy,
    groupAll: r.group_by ? r.group_by.includes("...") : parent.groupAll,
    groupWaitMs: r.group_wait ?? parent.groupWaitMs,
    groupIntervalMs: r.group_interval ?? parent.groupIntervalMs,
    repeatIntervalMs: r.repeat_interval ?? parent.repeatIntervalMs,
    // A rate limit is a bucket of its own route, not shared down the tree.
    rateLimit: r.rate_limit,
    routes: [],
  };
  node.routes = r.routes.map((c, i) => compileChild(c, node, `${path}.routes[${i}]`));
  return node;
}

/**
 * Alertmanager's walk: a route that matches hands the alert to its children in order; the first
 * matching child wins unless it has `continue`; a route none of whose children match keeps the alert.
 */
export function matchRoutes(route: CompiledRoute, labels: Labels): CompiledRoute[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const out: CompiledRoute[] = [];
  for (const child of route.routes) {
    const m = matchRoutes(child, labels);
    if (m.length === 0) continue;
    out.push(...m);
    if (!child.continue) break;
  }
  return out.length > 0 ? out : [route];
}

export function allRoutes(root: CompiledRoute): CompiledRoute[] {
  const out: CompiledRoute[] = [];
  const walk = (r: CompiledRoute) => {
    out.push(r);
    r.routes.forEach(walk);
  };
  walk(root);
  return out;
}

/**
 * Labels that routes, silences and inhibition rules match on: the alert's own labels plus its
 * incident's severity and status, so rules can say `incident_severity="P0"`. The alert's own labels
 * win if it already carries those names.
 */
export function routingLabels(a: NotifyAlert): Labels {
  return { incident_severity: a.incident.severity, incident_status: a.incident.status, ...a.labels };
}

/** Repeats happen only at flushes, which come every group_interval: round the repeat up to that grid. */
export function effectiveRepeatMs(repeatMs: number, groupIntervalMs: number): number {
  return Math.ceil(repeatMs / groupIntervalMs) * groupIntervalMs;
}
