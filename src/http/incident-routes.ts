import { z } from "zod";
import { ErrorCode, NovaError, type Clock } from "../core/index.js";
import {
  INCIDENT_STATUSES,
  SEVERITIES,
  incidentTimings,
  postmortemMarkdown,
  type IncidentAction,
  type IncidentService,
  type Incident,
} from "../incidents/index.js";
import {
  alertFromTrigger,
  alertmanagerWebhookSchema,
  alertsFromAlertmanager,
  eventFingerprint,
  eventSchema,
  type IncomingEvent,
} from "../ingest/index.js";
import type { Api } from "./http-app.js";

/** Page size of incident lists when the client names none, and the most it may ask for. */
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

const csv = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(values)));

const listQuery = z.object({
  status: csv(INCIDENT_STATUSES).optional().describe("comma-separated statuses"),
  severity: csv(SEVERITIES).optional().describe("comma-separated severities"),
  service: z.string().optional(),
  since: z.iso.datetime({ offset: true }).optional().describe("created at or after (RFC 3339)"),
  before: z.string().optional().describe("page: incidents older than this id"),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
});

const noteBody = z.object({ text: z.string().min(1).max(10_000) });
const assignBody = z.object({ assignee: z.string().min(1).max(200) });

export function incidentView(i: Incident) {
  return { ...i, timings: incidentTimings(i) };
}

export function registerIncidentRoutes(api: Api, incidents: IncidentService, clock: Clock): void {
  api.route(
    {
      method: "post",
      path: "/api/v1/alerts/alertmanager",
      summary: "Alertmanager webhook receiver (payload version 4); idempotent",
      tag: "intake",
      auth: "receiver",
      body: alertmanagerWebhookSchema,
      responses: { 200: "accepted", 400: "invalid payload", 401: "no credentials", 413: "body too large" },
    },
    async (c, { body, actor }) => {
      const alerts = alertsFromAlertmanager(body as z.output<typeof alertmanagerWebhookSchema>);
      const summary = await incidents.ingest(
        alerts,
        actor === "anonymous" || actor === "hmac" ? "alertmanager" : actor,
      );
      return c.json({ status: "ok", ...summary });
    },
  );

  const enqueue = async (c: Parameters<Parameters<Api["route"]>[1]>[0], ev: IncomingEvent, actor: string) => {
    const source = actor === "anonymous" || actor === "hmac" ? "events-api" : actor;
    if (ev.event_action === "trigger") {
      const dedupKey = ev.dedup_key ?? crypto.randomUUID();
      await incidents.ingest([alertFromTrigger(ev, dedupKey, clock.now())], source);
      return c.json({ status: "success", message: "Event processed", dedup_key: dedupKey }, 202);
    }
    const known = await incidents.getAlert(eventFingerprint(ev.dedup_key));
    if (!known)
      return c.json(
        {
          status: "success",
          message: "No alert with this dedup_key; nothing to do",
          dedup_key: ev.dedup_key,
        },
        202,
      );
    if (ev.event_action === "resolve") {
      await incidents.ingest([{ ...known, status: "resolved", endsAt: clock.now() }], source);
    } else if (known.incidentId && known.status === "firing") {
      const inc = await incidents.get(known.incidentId);
      if (inc.status === "triggered") await incidents.act(inc.id, { type: "acknowledge" }, source);
    }
    return c.json({ status: "success", message: "Event processed", dedup_key: ev.dedup_key }, 202);
  };

  for (const path of ["/v2/enqueue", "/api/v1/events"]) {
    api.route(
      {
        method: "post",
        path,
        summary:
          "Events API shaped like PagerDuty Events v2 (trigger / acknowledge / resolve with dedup_key)",
        tag: "intake",
        auth: "receiver",
        body: eventSchema,
        responses: { 202: "processed", 400: "invalid event", 401: "no credentials", 413: "body too large" },
      },
      async (c, { body, actor }) => enqueue(c, body as IncomingEvent, actor),
    );
  }

  api.route(
    {
      method: "get",
      path: "/api/v1/incidents",
      summary: "List incidents, newest first",
      tag: "incidents",
      auth: "viewer",
      query: listQuery,
      responses: { 200: "incidents", 400: "bad filter" },
    },
    async (c, { query }) => {
      const q = query as z.output<typeof listQuery>;
      const list = await incidents.list({
        limit: q.limit,
        ...(q.status ? { status: q.status } : {}),
        ...(q.severity ? { severity: q.severity } : {}),
        ...(q.service ? { service: q.service } : {}),
        ...(q.since ? { since: Date.parse(q.since) } : {}),
        ...(q.before ? { before: q.before } : {}),
      });
      const last = list[list.length - 1];
      return c.json({
        incidents: list.map(incidentView),
        next: list.length === q.limit && last ? last.id : null,
      });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/v1/incidents/:id",
      summary: "One incident with its alerts and timeline",
      tag: "incidents",
      auth: "viewer",
      responses: { 200: "incident", 404: "not found" },
    },
    async (c) => {
      const id = c.req.param("id") as string;
      const inc = await incidents.get(id);
      const [alerts, timeline] = await Promise.all([incidents.alerts(id), incidents.timeline(id)]);
      return c.json({ incident: incidentView(inc), alerts, timeline });
    },
  );

  api.route(
    {
      method: "get",
      path: "/api/v1/incidents/:id/postmortem",
      summary: "A Markdown postmortem draft",
      tag: "incidents",
      auth: "viewer",
      responses: { 200: "text/markdown", 404: "not found" },
    },
    async (c) => {
      const id = c.req.param("id") as string;
      const inc = await incidents.get(id);
      const md = postmortemMarkdown(inc, await incidents.timeline(id), await incidents.alerts(id));
      return c.text(md, 200, { "content-type": "text/markdown; charset=utf-8" });
    },
  );

  const actions: [string, (b: unknown) => IncidentAction, z.ZodType | undefined][] = [
    ["acknowledge", () => ({ type: "acknowledge" }), undefined],
    ["mitigate", () => ({ type: "mitigate" }), undefined],
    ["resolve", () => ({ type: "resolve" }), undefined],
    ["close", () => ({ type: "close" }), undefined],
    ["notes", (b) => ({ type: "note", text: (b as z.output<typeof noteBody>).text }), noteBody],
    [
      "assign",
      (b) => ({ type: "assign", assignee: (b as z.output<typeof assignBody>).assignee }),
      assignBody,
    ],
  ];
  for (const [name, make, body] of actions) {
    api.route(
      {
        method: "post",
        path: `/api/v1/incidents/:id/${name}`,
        summary:
          name === "notes"
            ? "Add a note to the timeline"
            : `${name[0]?.toUpperCase()}${name.slice(1)} the incident`,
        tag: "incidents",
        auth: "operator",
        ...(body ? { body } : {}),
        responses: {
          200: "the incident after the action",
          404: "not found",
          409: "not allowed from the current status",
        },
      },
      async (c, { body: b, actor }) => {
        const id = c.req.param("id") as string;
        if (!id) throw new NovaError(ErrorCode.ValidationFailed, "incident id required");
        return c.json({ incident: incidentView(await incidents.act(id, make(b), actor)) });
      },
    );
  }
}
