import type { Selectable } from "kysely";
import type {
  Alert,
  Incident,
  IncidentFilter,
  IncidentStore,
  IngestState,
  Plan,
  Severity,
  IncidentStatus,
  StoredAlert,
  StoredTimelineEntry,
  TimelineEntry,
} from "../incidents/index.js";
import type { Db } from "./database.js";
import { parseJson } from "./json.js";
import type { Tables } from "./schema.js";

const OPEN: IncidentStatus[] = ["triggered", "acknowledged", "mitigated"];

function toIncident(r: Selectable<Tables["incidents"]>): Incident {
  return {
    id: r.id,
    key: r.key,
    groupKey: r.group_key,
    title: r.title,
    severity: r.severity as Severity,
    status: r.status as IncidentStatus,
    services: parseJson<string[]>(r.services),
    labels: parseJson<Record<string, string>>(r.labels),
    assignee: r.assignee,
    detectedAt: Number(r.detected_at),
    createdAt: Number(r.created_at),
    acknowledgedAt: r.acknowledged_at === null ? null : Number(r.acknowledged_at),
    mitigatedAt: r.mitigated_at === null ? null : Number(r.mitigated_at),
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
    closedAt: r.closed_at === null ? null : Number(r.closed_at),
    lastActivityAt: Number(r.last_activity_at),
    reopenCount: r.reopen_count,
  };
}

function fromIncident(i: Incident): Tables["incidents"] {
  return {
    id: i.id,
    key: i.key,
    group_key: i.groupKey,
    title: i.title,
    severity: i.severity,
    status: i.status,
    services: JSON.stringify(i.services),
    labels: JSON.stringify(i.labels),
    assignee: i.assignee,
    detected_at: i.detectedAt,
    created_at: i.createdAt,
    acknowledged_at: i.acknowledgedAt,
    mitigated_at: i.mitigatedAt,
    resolved_at: i.resolvedAt,
    closed_at: i.closedAt,
    last_activity_at: i.lastActivityAt,
    reopen_count: i.reopenCount,
  };
}

function toAlert(r: Selectable<Tables["alerts"]>): StoredAlert {
  return {
    fingerprint: r.fingerprint,
    source: r.source,
    labels: parseJson(r.labels),
    annotations: parseJson(r.annotations),
    status: r.status as StoredAlert["status"],
    startsAt: Number(r.starts_at),
    endsAt: r.ends_at === null ? null : Number(r.ends_at),
    generatorURL: r.generator_url,
    incidentId: r.incident_id,
    updatedAt: Number(r.updated_at),
    transitions: parseJson(r.transitions),
    flapping: r.flapping === 1,
  };
}

function fromAlert(a: StoredAlert): Tables["alerts"] {
  return {
    fingerprint: a.fingerprint,
    source: a.source,
    labels: JSON.stringify(a.labels),
    annotations: JSON.stringify(a.annotations),
    status: a.status,
    starts_at: a.startsAt,
    ends_at: a.endsAt,
    generator_url: a.generatorURL,
    incident_id: a.incidentId,
    updated_at: a.updatedAt,
    transitions: JSON.stringify(a.transitions),
    flapping: a.flapping ? 1 : 0,
  };
}

function fromTimeline(e: TimelineEntry): Omit<Tables["timeline"], "id"> {
  return { incident_id: e.incidentId, at: e.at, kind: e.kind, actor: e.actor, data: JSON.stringify(e.data) };
}

/** Rows per multi-row insert: well under SQLite's 32,766 bound parameters for our widest table. */
const INSERT_CHUNK_ROWS = 500;

function chunks<T>(rows: readonly T[], size = INSERT_CHUNK_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export function createIncidentStore(db: Db): IncidentStore {
  return {
    async loadIngestState(alerts: readonly Alert[], groupKeys: readonly string[]): Promise<IngestState> {
      const fps = [...new Set(alerts.map((a) => a.fingerprint))];
      const alertRows = fps.length
        ? await db.selectFrom("alerts").selectAll().where("fingerprint", "in", fps).execute()
        : [];
      const known = new Map(alertRows.map((r) => [r.fingerprint, toAlert(r)] as const));
      const incidentIds = new Set<string>();
      for (const a of known.values()) if (a.incidentId) incidentIds.add(a.incidentId);

      const incidents = new Map<string, Incident>();
      const openByGroup = new Map<string, string>();
      const keys = [...new Set(groupKeys)];
      if (keys.length) {
        const rows = await db
          .selectFrom("incidents")
          .selectAll()
          .where("group_key", "in", keys)
          .where("status", "in", OPEN)
          .orderBy("created_at", "asc")
          .execute();
        for (const r of rows) {
          const inc = toIncident(r);
          incidents.set(inc.id, inc);
          openByGroup.set(inc.groupKey, inc.id); // ascending order: the newest wins
        }
      }
      const missing = [...incidentIds].filter((id) => !incidents.has(id));
      if (missing.length) {
        for (const r of await db.selectFrom("incidents").selectAll().where("id", "in", missing).execute()) {
          incidents.set(r.id, toIncident(r));
        }
      }
      // Only a resolution needs to know what else still fires in its incident; load just those.
      const firing = new Map<string, Set<string>>();
      // An alert may fire (joining its group's open incident) and resolve within one batch, so take
      // the incidents of every resolving fingerprint and every open incident of the groups involved.
      const resolving = new Set(alerts.filter((a) => a.status === "resolved").map((a) => a.fingerprint));
      const wanted = new Set<string>();
      for (const fp of resolving) {
        const id = known.get(fp)?.incidentId;
        if (id) wanted.add(id);
      }
      if (resolving.size) {
        alerts.forEach((a, i) => {
          if (!resolving.has(a.fingerprint)) return;
          const open = openByGroup.get(groupKeys[i] as string);
          if (open) wanted.add(open);
        });
      }
      const ids = [...wanted];
      for (const part of chunks(ids)) {
        const rows = await db
          .selectFrom("alerts")
          .select(["incident_id", "fingerprint"])
          .where("incident_id", "in", part)
          .where("status", "=", "firing")
          .execute();
        for (const r of rows) {
          const id = r.incident_id as string;
          let s = firing.get(id);
          if (!s) firing.set(id, (s = new Set()));
          s.add(r.fingerprint);
        }
      }
      return { alerts: known, incidents, openByGroup, firing };
    },

    async applyPlan(plan: Plan): Promise<void> {
      if (plan.alerts.size === 0 && plan.incidents.size === 0 && plan.timeline.length === 0) return;
      await db.transaction().execute(async (tx) => {
        const created = [...plan.createdIncidents]
          .map((id) => plan.incidents.get(id))
          .filter((i): i is Incident => !!i);
        for (const part of chunks(created.map(fromIncident)))
          await tx.insertInto("incidents").values(part).execute();
        for (const inc of plan.incidents.values()) {
          if (plan.createdIncidents.has(inc.id)) continue;
          const { id: _id, ...rest } = fromIncident(inc);
          await tx.updateTable("incidents").set(rest).where("id", "=", inc.id).execute();
        }
        const alertRows = [...plan.alerts.values()].map(fromAlert);
        for (const part of chunks(alertRows)) {
          await tx
            .insertInto("alerts")
            .values(part)
            .onConflict((oc) =>
              oc.column("fingerprint").doUpdateSet((eb) => ({
                source: eb.ref("excluded.source"),
                labels: eb.ref("excluded.labels"),
                annotations: eb.ref("excluded.annotations"),
                status: eb.ref("excluded.status"),
                starts_at: eb.ref("excluded.starts_at"),
                ends_at: eb.ref("excluded.ends_at"),
                generator_url: eb.ref("excluded.generator_url"),
                incident_id: eb.ref("excluded.incident_id"),
                updated_at: eb.ref("excluded.updated_at"),
                transitions: eb.ref("excluded.transitions"),
                flapping: eb.ref("excluded.flapping"),
              })),
            )
            .execute();
        }
        for (const part of chunks(plan.memberships)) {
          await tx
            .insertInto("incident_alerts")
            .values(
              part.map((m) => ({
                incident_id: m.incidentId,
                fingerprint: m.fingerprint,
                joined_at: m.joinedAt,
              })),
            )
            .onConflict((oc) => oc.columns(["incident_id", "fingerprint"]).doNothing())
            .execute();
        }
        for (const part of chunks(plan.timeline.map(fromTimeline)))
          await tx.insertInto("timeline").values(part).execute();
      });
    },

    async get(id) {
      const r = await db.selectFrom("incidents").selectAll().where("id", "=", id).executeTakeFirst();
      return r ? toIncident(r) : undefined;
    },

    async recentAlerts(since) {
      const rows = await db
        .selectFrom("alerts")
        .selectAll()
        .where("incident_id", "is not", null)
        .where((eb) => eb.or([eb("status", "=", "firing"), eb("updated_at", ">=", since)]))
        .execute();
      const ids = [...new Set(rows.map((r) => r.incident_id as string))];
      const incidents = new Map<string, Incident>();
      for (const part of chunks(ids)) {
        for (const r of await db.selectFrom("incidents").selectAll().where("id", "in", part).execute())
          incidents.set(r.id, toIncident(r));
      }
      return rows.flatMap((r) => {
        const incident = incidents.get(r.incident_id as string);
        return incident ? [{ alert: toAlert(r), incident }] : [];
      });
    },

    async getAlert(fp) {
      const r = await db.selectFrom("alerts").selectAll().where("fingerprint", "=", fp).executeTakeFirst();
      return r ? toAlert(r) : undefined;
    },

    async list(f: IncidentFilter) {
      let q = db.selectFrom("incidents").selectAll();
      if (f.status?.length) q = q.where("status", "in", f.status);
      if (f.severity?.length) q = q.where("severity", "in", f.severity);
      if (f.since !== undefined) q = q.where("created_at", ">=", f.since);
      if (f.before !== undefined) q = q.where("id", "<", f.before);
      // Services are a JSON array of names; quoting the name matches whole entries only.
      if (f.service !== undefined)
        q = q.where("services", "like", `%${JSON.stringify(f.service).replace(/[%_]/g, "")}%`);
      const rows = await q.orderBy("id", "desc").limit(f.limit).execute();
      const out = rows.map(toIncident);
      return f.service === undefined ? out : out.filter((i) => i.services.includes(f.service as string));
    },

    async timeline(id): Promise<StoredTimelineEntry[]> {
      const rows = await db
        .selectFrom("timeline")
        .selectAll()
        .where("incident_id", "=", id)
        .orderBy("id", "asc")
        .execute();
      return rows.map((r) => ({
        id: Number(r.id),
        incidentId: r.incident_id,
        at: Number(r.at),
        kind: r.kind as TimelineEntry["kind"],
        actor: r.actor,
        data: parseJson(r.data),
      }));
    },

    async alertsOf(id) {
      const rows = await db
        .selectFrom("incident_alerts")
        .innerJoin("alerts", "alerts.fingerprint", "incident_alerts.fingerprint")
        .selectAll("alerts")
        .where("incident_alerts.incident_id", "=", id)
        .orderBy("incident_alerts.joined_at", "asc")
        .execute();
      return rows.map(toAlert);
    },

    async saveAction(incident, timeline) {
      await db.transaction().execute(async (tx) => {
        const { id: _id, ...rest } = fromIncident(incident);
        await tx.updateTable("incidents").set(rest).where("id", "=", incident.id).execute();
        if (timeline.length) await tx.insertInto("timeline").values(timeline.map(fromTimeline)).execute();
      });
    },

    async appendTimeline(entries) {
      for (const part of chunks(entries))
        await db.insertInto("timeline").values(part.map(fromTimeline)).execute();
    },

    async countByStatus() {
      const rows = await db
        .selectFrom("incidents")
        .select(["status"])
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .groupBy("status")
        .execute();
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
  };
}
