import { createHash } from "node:crypto";
import { labelsToString, matchesAll, type Labels } from "../core/index.js";
import type { InhibitRule, NotifyConfig } from "./config.js";
import { isInhibited } from "./inhibit.js";
import {
  allRoutes,
  compileRoutes,
  effectiveRepeatMs,
  matchRoutes,
  routingLabels,
  type CompiledRoute,
} from "./routing.js";
import { findSilence, type Silence } from "./silences.js";
import type { IncidentRef, Notification, NotificationKind, NotifyAlert } from "./types.js";

/** One aggregation group: a route, its group_by values, one incident. Plain JSON so it can be persisted. */
interface GroupState {
  key: string;
  route: string;
  receiver: string;
  groupLabels: Labels;
  incident: IncidentRef;
  alerts: Record<string, NotifyAlert>;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  nextFlushAt: number;
  /** Undefined until the group has notified once. */
  lastNotifiedAt?: number;
  /** Fingerprints notified as firing / resolved in the last notification. */
  lastFiring: string[];
  lastResolved: string[];
  /** Fingerprints muted at the last flush, so the timeline hears of each muting once. */
  lastMuted?: string[];
  seq: number;
}

interface IncidentTarget {
  route: string;
  channel: string;
}

export interface DispatcherSnapshot {
  version: 1;
  groups: GroupState[];
  /** incident id -> channels its notifications went to, for acknowledge/resolve events. */
  incidents: Record<string, IncidentTarget[]>;
  expiredSilences: string[];
}

export type DispatcherEvent =
  | { kind: "silence_expired"; silence: Silence; at: number; incidentIds: string[] }
  | {
      kind: "alerts_muted";
      reason: "silenced" | "inhibited";
      silenceId?: string;
      incidentId: string;
      fingerprints: string[];
      at: number;
    };

/** Keys are hex SHA-256 prefixes: 128 bits is plenty to never collide within one outbox. */
const IDEMPOTENCY_KEY_HEX_CHARS = 32;

function hashKey(parts: readonly string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\u0000");
  return h.digest("hex").slice(0, IDEMPOTENCY_KEY_HEX_CHARS);
}

/**
 * Alertmanager's dispatcher and notification-log semantics as a pure state machine. The host calls
 * `ingest(alerts, now)` when alerts change and `tick(now)` when `nextWakeAt()` passes; tick returns the
 * notifications to put into the outbox. No timers, no I/O.
 */
export class Dispatcher {
  private root: CompiledRoute;
  private routesByPath = new Map<string, CompiledRoute>();
  private inhibitRules: InhibitRule[];
  private groups = new Map<string, GroupState>();
  /** fingerprint -> keys of the groups holding that alert. */
  private alertGroups = new Map<string, Set<string>>();
  /** Latest firing alerts by fingerprint: the sources for inhibition. */
  private firing = new Map<string, { fingerprint: string; labels: Labels }>();
  private incidents = new Map<string, IncidentTarget[]>();
  private silences: Silence[] = [];
  private expiredSilences = new Set<string>();
  private events: DispatcherEvent[] = [];

  constructor(config: NotifyConfig) {
    this.root = compileRoutes(config);
    for (const r of allRoutes(this.root)) this.routesByPath.set(r.path, r);
    this.inhibitRules = config.inhibit_rules;
  }

  route(path: string): CompiledRoute | undefined {
    return this.routesByPath.get(path);
  }

  /** Replace the silence set (the host owns silences; typically reloaded from the store). */
  setSilences(silences: readonly Silence[]): void {
    this.silences = [...silences];
    const ids = new Set(silences.map((s) => s.id));
    for (const id of this.expiredSilences) if (!ids.has(id)) this.expiredSilences.delete(id);
  }

  ingest(alerts: readonly NotifyAlert[], now: number): void {
    for (const a of alerts) {
      const labels = routingLabels(a);
      if (a.status === "firing") this.firing.set(a.fingerprint, { fingerprint: a.fingerprint, labels });
      else this.firing.delete(a.fingerprint);

      const keys = new Set<string>();
      for (const r of matchRoutes(this.root, labels)) {
        if (r.receiver === undefined) continue;
        const groupLabels = groupLabelsFor(r, a.labels);
        const key = `${r.path}|${labelsToString(groupLabels)}|${a.incident.id}`;
        let g = this.groups.get(key);
        // A resolution matters only where the alert is known to be firing; a repeated or unknown one
        // (sources re-send resolved alerts) would otherwise be reported again.
        if (a.status === "resolved" && !(g && Object.hasOwn(g.alerts, a.fingerprint))) continue;
        if (!g) {
          g = {
            key,
            route: r.path,
            receiver: r.receiver,
            groupLabels,
            incident: a.incident,
            alerts: {},
            groupWaitMs: r.groupWaitMs,
            groupIntervalMs: r.groupIntervalMs,
            repeatIntervalMs: r.repeatIntervalMs,
            // As Alertmanager: an alert that has been firing longer than group_wait goes out at once.
            nextFlushAt: a.startsAt + r.groupWaitMs <= now ? now : now + r.groupWaitMs,
            lastFiring: [],
            lastResolved: [],
            seq: 0,
          };
          this.groups.set(key, g);
        }
        g.alerts[a.fingerprint] = a;
        g.incident = a.incident;
        keys.add(key);
      }
      const before = this.alertGroups.get(a.fingerprint);
      if (before) {
        for (const k of before) {
          if (keys.has(k)) continue;
          const g = this.groups.get(k);
          if (a.status === "resolved" && g) {
            // A resolution goes wherever the firing alert went, even if its labels now route elsewhere.
            g.alerts[a.fingerprint] = a;
            keys.add(k);
          } else {
            // A firing alert that moved (e.g. its incident was merged) leaves its old groups quietly.
            this.dropAlert(k, a.fingerprint);
          }
        }
      }
      if (keys.size > 0) this.alertGroups.set(a.fingerprint, keys);
      else this.alertGroups.delete(a.fingerprint);
    }
  }

  private dropAlert(groupKey: string, fp: string): void {
    const g = this.groups.get(groupKey);
    if (!g) return;
    delete g.alerts[fp];
    if (Object.keys(g.alerts).length === 0 && g.lastFiring.length === 0) this.groups.delete(groupKey);
  }

  /** When tick should next be called (undefined: nothing pending). */
  nextWakeAt(): number | undefined {
    let t: number | undefined;
    for (const g of this.groups.values()) if (t === undefined || g.nextFlushAt < t) t = g.nextFlushAt;
    for (const s of this.silences)
      if (!this.expiredSilences.has(s.id) && (t === undefined || s.endsAt < t)) t = s.endsAt;
    return t;
  }

  tick(now: number): Notification[] {
    this.recordSilenceExpiries(now);
    const due = [...this.groups.values()]
      .filter((g) => g.nextFlushAt <= now)
      .sort((a, b) => a.nextFlushAt - b.nextFlushAt || (a.key < b.key ? -1 : 1));
    const out: Notification[] = [];
    for (const g of due) {
      const n = this.flush(g, now);
      if (n) out.push(n);
    }
    return out;
  }

  /** Events for the incident timeline since the last call (silence expiries, muted alerts). */
  drainEvents(): DispatcherEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  private recordSilenceExpiries(now: number): void {
    for (const s of this.silences) {
      if (s.endsAt > now || this.expiredSilences.has(s.id)) continue;
      this.expiredSilences.add(s.id);
      const incidentIds = new Set<string>();
      for (const g of this.groups.values())
        for (const a of Object.values(g.alerts))
          if (matchesAll(s.matchers, routingLabels(a))) incidentIds.add(a.incident.id);
      this.events.push({
        kind: "silence_expired",
        silence: s,
        at: s.endsAt,
        incidentIds: [...incidentIds].sort(),
      });
    }
  }

  private flush(g: GroupState, now: number): Notification | undefined {
    g.nextFlushAt = now + g.groupIntervalMs;
    const all = Object.values(g.alerts).sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
    const notifiedFiring = new Set(g.lastFiring);
    const kept: NotifyAlert[] = [];
    const muted = new Map<string, { reason: "silenced" | "inhibited"; silenceId?: string; fps: string[] }>();
    for (const a of all) {
      // A resolution of something we paged about always goes out, else the page stays open forever.
      if (a.status === "resolved" && notifiedFiring.has(a.fingerprint)) {
        kept.push(a);
        continue;
      }
      const labels = routingLabels(a);
      const s = findSilence(this.silences, labels, now);
      const reason = s
        ? "silenced"
        : isInhibited(this.inhibitRules, { fingerprint: a.fingerprint, labels }, this.firing.values())
          ? "inhibited"
          : undefined;
      if (reason === undefined) {
        kept.push(a);
        continue;
      }
      const mk = `${reason}|${s?.id ?? ""}`;
      const entry = muted.get(mk) ?? (s ? { reason, silenceId: s.id, fps: [] } : { reason, fps: [] });
      entry.fps.push(a.fingerprint);
      muted.set(mk, entry);
    }
    const previouslyMuted = new Set(g.lastMuted ?? []);
    const nowMuted: string[] = [];
    for (const m of muted.values()) {
      nowMuted.push(...m.fps);
      const fresh = m.fps.filter((fp) => !previouslyMuted.has(fp));
      if (fresh.length === 0) continue;
      this.events.push({
        kind: "alerts_muted",
        reason: m.reason,
        ...(m.silenceId !== undefined ? { silenceId: m.silenceId } : {}),
        incidentId: g.incident.id,
        fingerprints: fresh,
        at: now,
      });
    }
    g.lastMuted = nowMuted;

    // Resolved alerts are reported at most once: they leave the group after this flush either way.
    for (const a of all) if (a.status === "resolved") this.removeFromGroup(g, a.fingerprint);

    let notification: Notification | undefined;
    if (kept.length > 0) {
      const firing = kept.filter((a) => a.status === "firing").map((a) => a.fingerprint);
      const resolved = kept.filter((a) => a.status === "resolved").map((a) => a.fingerprint);
      if (this.needsUpdate(g, firing, resolved, now)) {
        g.seq += 1;
        const kind = this.kindFor(g, firing.length);
        g.lastNotifiedAt = now;
        g.lastFiring = firing;
        g.lastResolved = resolved;
        notification = {
          idempotencyKey: hashKey([
            "group",
            g.key,
            g.receiver,
            String(g.seq),
            ...kept.map((a) => `${a.fingerprint}:${a.status}:${a.startsAt}`),
          ]),
          channel: g.receiver,
          route: g.route,
          kind,
          incident: g.incident,
          alerts: kept,
          groupLabels: g.groupLabels,
          commonLabels: commonOf(kept.map((a) => a.labels)),
          commonAnnotations: commonOf(kept.map((a) => a.annotations)),
          createdAt: now,
        };
        // After a resolve the channel is done with this incident: a re-fire starts over with a trigger.
        if (kind === "resolve") this.forgetTarget(g.incident.id, g.receiver);
        else this.rememberTarget(g.incident.id, { route: g.route, channel: g.receiver });
      }
    }
    if (Object.keys(g.alerts).length === 0) this.groups.delete(g.key);
    return notification;
  }

  /** Alertmanager's notification-log decision, with send_resolved always on. */
  private needsUpdate(g: GroupState, firing: string[], resolved: string[], now: number): boolean {
    if (g.lastNotifiedAt === undefined) return firing.length > 0;
    const prevFiring = new Set(g.lastFiring);
    if (!firing.every((f) => prevFiring.has(f))) return true;
    // Everything that was firing is gone: tell the receiver, unless it never heard of any of it.
    if (firing.length === 0) return g.lastFiring.length > 0;
    const prevResolved = new Set(g.lastResolved);
    if (!resolved.every((r) => prevResolved.has(r))) return true;
    return now - g.lastNotifiedAt >= effectiveRepeatMs(g.repeatIntervalMs, g.groupIntervalMs);
  }

  private kindFor(g: GroupState, firingCount: number): NotificationKind {
    if (firingCount > 0) {
      // "trigger" only when this channel has not yet heard of the incident (from any group).
      const known = this.incidents.get(g.incident.id)?.some((t) => t.channel === g.receiver) ?? false;
      return known ? "update" : "trigger";
    }
    // The receiver's incident (PD dedup key, Opsgenie alias) spans every group of this incident on
    // this channel: resolve it only when none of them still has alerts firing.
    for (const other of this.groups.values()) {
      if (other === g || other.incident.id !== g.incident.id || other.receiver !== g.receiver) continue;
      if (Object.values(other.alerts).some((a) => a.status === "firing")) return "update";
    }
    return "resolve";
  }

  private removeFromGroup(g: GroupState, fp: string): void {
    delete g.alerts[fp];
    const keys = this.alertGroups.get(fp);
    if (keys) {
      keys.delete(g.key);
      if (keys.size === 0) this.alertGroups.delete(fp);
    }
  }

  private rememberTarget(incidentId: string, t: IncidentTarget): void {
    const list = this.incidents.get(incidentId) ?? [];
    if (!list.some((x) => x.channel === t.channel)) list.push(t);
    this.incidents.set(incidentId, list);
  }

  private forgetTarget(incidentId: string, channel: string): void {
    const list = (this.incidents.get(incidentId) ?? []).filter((t) => t.channel !== channel);
    if (list.length > 0) this.incidents.set(incidentId, list);
    else this.incidents.delete(incidentId);
  }

  /**
   * Notifications for a human acknowledging or resolving an incident: one per channel that this
   * incident's alerts were notified to. A resolve also forgets the incident's targets.
   */
  incidentEvent(incident: IncidentRef, kind: "acknowledge" | "resolve", now: number): Notification[] {
    const targets = this.incidents.get(incident.id) ?? [];
    if (kind === "resolve") this.incidents.delete(incident.id);
    return targets.map((t) => {
      const alerts: NotifyAlert[] = [];
      for (const g of this.groups.values())
        if (g.incident.id === incident.id && g.receiver === t.channel)
          alerts.push(...Object.values(g.alerts));
      return {
        idempotencyKey: hashKey(["incident", kind, incident.id, t.channel]),
        channel: t.channel,
        route: t.route,
        kind,
        incident,
        alerts,
        groupLabels: {},
        commonLabels: commonOf(alerts.map((a) => a.labels)),
        commonAnnotations: commonOf(alerts.map((a) => a.annotations)),
        createdAt: now,
      };
    });
  }

  /** Drop what is kept for an incident that is closed (its groups and lifecycle targets). */
  forgetIncident(incidentId: string): void {
    this.incidents.delete(incidentId);
    for (const g of [...this.groups.values()]) {
      if (g.incident.id !== incidentId) continue;
      for (const fp of Object.keys(g.alerts)) {
        this.removeFromGroup(g, fp);
        this.firing.delete(fp);
      }
      this.groups.delete(g.key);
    }
  }

  snapshot(): DispatcherSnapshot {
    return structuredClone({
      version: 1,
      groups: [...this.groups.values()],
      incidents: Object.fromEntries(this.incidents),
      expiredSilences: [...this.expiredSilences],
    });
  }

  restore(s: DispatcherSnapshot): void {
    if (s.version !== 1) throw new Error(`unsupported dispatcher snapshot version ${String(s.version)}`);
    const copy = structuredClone(s);
    this.groups = new Map(copy.groups.map((g) => [g.key, g]));
    this.incidents = new Map(Object.entries(copy.incidents));
    this.expiredSilences = new Set(copy.expiredSilences);
    this.alertGroups.clear();
    this.firing.clear();
    for (const g of this.groups.values()) {
      for (const a of Object.values(g.alerts)) {
        const keys = this.alertGroups.get(a.fingerprint) ?? new Set<string>();
        keys.add(g.key);
        this.alertGroups.set(a.fingerprint, keys);
        if (a.status === "firing")
          this.firing.set(a.fingerprint, { fingerprint: a.fingerprint, labels: routingLabels(a) });
      }
    }
  }

  /** Number of live aggregation groups (for metrics and tests). */
  groupCount(): number {
    return this.groups.size;
  }
}

function groupLabelsFor(r: CompiledRoute, labels: Labels): Labels {
  if (r.groupAll) return { ...labels };
  const out: Labels = {};
  for (const k of r.groupBy) {
    const v = labels[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function commonOf(sets: readonly Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = sets;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((s) => s[k] === v)) out[k] = v;
  return out;
}
