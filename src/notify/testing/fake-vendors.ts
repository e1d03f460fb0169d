import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhookSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../channels/webhook.js";

/**
 * Loopback stand-ins for the vendors notify talks to. Each checks requests against the vendor's
 * documented format (required fields, auth header, content type, limits) and answers as the vendor
 * does, including 429 with Retry-After and 5xx. For tests and benches only.
 */
export type FakeVendorKind = "slack" | "pagerduty" | "opsgenie" | "jira" | "webhook";
export type FakeVendorMode = "ok" | "429" | "500" | "down";

export interface ReceivedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  raw: string;
  body: unknown;
  /** Status we answered with. */
  status: number;
  /** Why it was rejected (4xx), if it was. */
  problem?: string;
}

export interface FakeVendorOptions {
  /** PagerDuty: the integration's routing key (32 chars). */
  routingKey?: string;
  /** Opsgenie: API key expected in `Authorization: GenieKey <key>`. */
  apiKey?: string;
  /** Jira: basic-auth user (email) and API token. */
  jiraUser?: string;
  jiraToken?: string;
  /** Webhook: HMAC secret. */
  webhookSecret?: string;
}

export interface FakeVendor {
  kind: FakeVendorKind;
  /** Base URL, e.g. http://127.0.0.1:PORT (Slack and webhook: the full hook URL). */
  url: string;
  /** Requests accepted (2xx). */
  received: ReceivedRequest[];
  /** Every request, including rejected and failed ones. */
  requests: ReceivedRequest[];
  /** Vendor-side state: PagerDuty incidents by dedup_key, Opsgenie alerts by alias, Jira issues by key. */
  state: Map<string, { status: string; events: number; comments: number; data: unknown }>;
  setMode(mode: FakeVendorMode, opts?: { retryAfter?: string }): void;
  close(): Promise<void>;
}

/** Slack's documented incoming-webhook path shape; the fake accepts only this path. */
export const FAKE_SLACK_PATH = "/services/T000/B000/XXXXXXXX";
export const FAKE_WEBHOOK_PATH = "/hooks/novasre";
export const FAKE_PD_ROUTING_KEY = "R0UTINGKEY0123456789ABCDEFGHIJKL";
export const FAKE_OPSGENIE_KEY = "og-test-key";
export const FAKE_JIRA_USER = "sre-bot@example.com";
export const FAKE_JIRA_TOKEN = "jira-test-token";
export const FAKE_WEBHOOK_SECRET = "webhook-test-secret";

type Answer = { status: number; body?: unknown; contentType?: string; problem?: string };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function isJson(headers: IncomingHttpHeaders): boolean {
  return (headers["content-type"] ?? "").toLowerCase().startsWith("application/json");
}

function isAdf(v: unknown): boolean {
  return isObj(v) && v["type"] === "doc" && v["version"] === 1 && Array.isArray(v["content"]);
}

export async function startFakeVendor(
  kind: FakeVendorKind,
  opts: FakeVendorOptions = {},
): Promise<FakeVendor> {
  let mode: FakeVendorMode = "ok";
  let retryAfter = "1";
  const received: ReceivedRequest[] = [];
  const requests: ReceivedRequest[] = [];
  const state = new Map<string, { status: string; events: number; comments: number; data: unknown }>();
  const routingKey = opts.routingKey ?? FAKE_PD_ROUTING_KEY;
  const apiKey = opts.apiKey ?? FAKE_OPSGENIE_KEY;
  const jiraAuth = `Basic ${Buffer.from(`${opts.jiraUser ?? FAKE_JIRA_USER}:${opts.jiraToken ?? FAKE_JIRA_TOKEN}`).toString("base64")}`;
  const secret = opts.webhookSecret ?? FAKE_WEBHOOK_SECRET;
  let jiraSeq = 0;

  const handle = (
    method: string,
    path: string,
    query: URLSearchParams,
    headers: IncomingHttpHeaders,
    raw: string,
    body: unknown,
  ): Answer => {
    switch (kind) {
      case "slack": {
        if (method !== "POST" || path !== FAKE_SLACK_PATH)
          return { status: 404, body: "no_service", contentType: "text/html", problem: "wrong path" };
        if (!isJson(headers) || !isObj(body))
          return { status: 400, body: "invalid_payload", contentType: "text/html", problem: "not JSON" };
        const blocks = body["blocks"];
        if (typeof body["text"] !== "string" && !Array.isArray(blocks))
          return { status: 400, body: "no_text", contentType: "text/html", problem: "no text or blocks" };
        if (blocks !== undefined) {
          if (!Array.isArray(blocks) || blocks.length > 50)
            return {
              status: 400,
              body: "invalid_blocks",
              contentType: "text/html",
              problem: "blocks not an array of <= 50",
            };
          for (const b of blocks) {
            if (!isObj(b) || typeof b["type"] !== "string")
              return {
                status: 400,
                body: "invalid_blocks",
                contentType: "text/html",
                problem: "block without type",
              };
            const t = b["text"];
            if (
              b["type"] === "header" &&
              !(
                isObj(t) &&
                t["type"] === "plain_text" &&
                typeof t["text"] === "string" &&
                t["text"].length <= 150
              )
            )
              return {
                status: 400,
                body: "invalid_blocks",
                contentType: "text/html",
                problem: "bad header block",
              };
            if (
              b["type"] === "section" &&
              !(
                isObj(t) &&
                (t["type"] === "mrkdwn" || t["type"] === "plain_text") &&
                typeof t["text"] === "string" &&
                t["text"].length > 0 &&
                t["text"].length <= 3000
              )
            )
              return {
                status: 400,
                body: "invalid_blocks",
                contentType: "text/html",
                problem: "bad section block",
              };
          }
        }
        return { status: 200, body: "ok", contentType: "text/html" };
      }
      case "pagerduty": {
        const invalid = (problem: string): Answer => ({
          status: 400,
          body: { status: "invalid event", message: "Event object is invalid", errors: [problem] },
          problem,
        });
        if (method !== "POST" || path !== "/v2/enqueue")
          return { status: 404, body: { status: "not found" }, problem: "wrong path" };
        if (!isJson(headers) || !isObj(body)) return invalid("body must be JSON");
        if (body["routing_key"] !== routingKey) return invalid("'routing_key' is invalid");
        const action = body["event_action"];
        if (action !== "trigger" && action !== "acknowledge" && action !== "resolve")
          return invalid("'event_action' is invalid");
        const dedup = body["dedup_key"];
        if (dedup !== undefined && (typeof dedup !== "string" || dedup.length > 255))
          return invalid("'dedup_key' is invalid");
        if (action !== "trigger" && typeof dedup !== "string")
          return invalid("'dedup_key' is required for acknowledge and resolve");
        if (action === "trigger") {
          const p = body["payload"];
          if (!isObj(p)) return invalid("'payload' is missing");
          if (typeof p["summary"] !== "string" || p["summary"].length === 0 || p["summary"].length > 1024)
            return invalid("'payload.summary' is missing or too long");
          if (typeof p["source"] !== "string" || p["source"].length === 0)
            return invalid("'payload.source' is missing");
          if (!["critical", "error", "warning", "info"].includes(String(p["severity"])))
            return invalid("'payload.severity' is invalid");
        }
        const key = typeof dedup === "string" ? dedup : `pd-${requests.length}`;
        const cur = state.get(key);
        if (action === "trigger") {
          // A trigger on an open incident with the same dedup key adds to it instead of paging again.
          if (cur && cur.status !== "resolved") cur.events += 1;
          else state.set(key, { status: "triggered", events: 1, comments: 0, data: body });
        } else if (cur && cur.status !== "resolved") {
          cur.status = action === "acknowledge" ? "acknowledged" : "resolved";
          cur.events += 1;
        }
        return { status: 202, body: { status: "success", message: "Event processed", dedup_key: key } };
      }
      case "opsgenie": {
        if (headers["authorization"] !== `GenieKey ${apiKey}`)
          return {
            status: 401,
            body: { message: "Could not authenticate", took: 0, requestId: "r-auth" },
            problem: "bad auth",
          };
        if (method !== "POST")
          return { status: 405, body: { message: "Method not allowed" }, problem: "method" };
        if (!isJson(headers) || !isObj(body))
          return {
            status: 400,
            body: { message: "Request body is not processable", took: 0 },
            problem: "not JSON",
          };
        const requestId = `req-${requests.length}`;
        if (path === "/v2/alerts") {
          const msg = body["message"];
          if (typeof msg !== "string" || msg.length === 0 || msg.length > 130)
            return {
              status: 422,
              body: {
                message: "Request body is not processable",
                errors: { message: "must be 1..130 chars" },
              },
              problem: "message",
            };
          const alias = body["alias"];
          if (alias !== undefined && (typeof alias !== "string" || alias.length > 512))
            return { status: 422, body: { message: "alias too long" }, problem: "alias" };
          if (
            body["priority"] !== undefined &&
            !["P1", "P2", "P3", "P4", "P5"].includes(body["priority"] as string)
          )
            return { status: 422, body: { message: "priority invalid" }, problem: "priority" };
          const key = typeof alias === "string" ? alias : requestId;
          const cur = state.get(key);
          // Opsgenie deduplicates an open alert by alias: the count goes up, nobody is paged again.
          if (cur && cur.status !== "closed") cur.events += 1;
          else state.set(key, { status: "open", events: 1, comments: 0, data: body });
          return { status: 202, body: { result: "Request will be processed", took: 0.01, requestId } };
        }
        const m = /^\/v2\/alerts\/([^/]+)\/(close|acknowledge)$/.exec(path);
        if (m) {
          if (query.get("identifierType") !== "alias")
            return {
              status: 422,
              body: { message: "identifierType must be alias here" },
              problem: "identifierType",
            };
          const cur = state.get(decodeURIComponent(m[1] as string));
          if (cur) {
            cur.status = m[2] === "close" ? "closed" : "acknowledged";
            cur.events += 1;
          }
          return { status: 202, body: { result: "Request will be processed", took: 0.01, requestId } };
        }
        return { status: 404, body: { message: "Not found" }, problem: "path" };
      }
      case "jira": {
        if (headers["authorization"] !== jiraAuth)
          return { status: 401, body: { errorMessages: ["Unauthorized"] }, problem: "bad auth" };
        if (method === "POST" && path === "/rest/api/3/issue") {
          if (!isJson(headers) || !isObj(body) || !isObj(body["fields"]))
            return { status: 400, body: { errorMessages: ["No fields"], errors: {} }, problem: "no fields" };
          const f = body["fields"];
          const errors: Record<string, string> = {};
          if (!isObj(f["project"]) || typeof f["project"]["key"] !== "string")
            errors["project"] = "project is required";
          if (
            typeof f["summary"] !== "string" ||
            f["summary"].length === 0 ||
            f["summary"].length > 255 ||
            /[\r\n]/.test(f["summary"])
          )
            errors["summary"] = "Summary must be less than 255 characters and one line.";
          if (
            !isObj(f["issuetype"]) ||
            (typeof f["issuetype"]["name"] !== "string" && typeof f["issuetype"]["id"] !== "string")
          )
            errors["issuetype"] = "issue type is required";
          if (f["description"] !== undefined && !isAdf(f["description"]))
            errors["description"] = "Operation value must be an Atlassian Document";
          if (Array.isArray(f["labels"]) && f["labels"].some((l) => typeof l !== "string" || /\s/.test(l)))
            errors["labels"] = "labels cannot contain spaces";
          if (Object.keys(errors).length > 0)
            return {
              status: 400,
              body: { errorMessages: [], errors },
              problem: Object.values(errors).join("; "),
            };
          jiraSeq += 1;
          const key = `${String((f["project"] as Record<string, unknown>)["key"])}-${jiraSeq}`;
          state.set(key, { status: "To Do", events: 1, comments: 0, data: body });
          return {
            status: 201,
            body: {
              id: String(10000 + jiraSeq),
              key,
              self: `http://jira/rest/api/3/issue/${10000 + jiraSeq}`,
            },
          };
        }
        if (method === "GET" && path === "/rest/api/3/search/jql") {
          const jql = query.get("jql") ?? "";
          const label = /labels\s*=\s*"([^"]+)"/.exec(jql)?.[1];
          if (!label)
            return { status: 400, body: { errorMessages: ["Error in the JQL Query"] }, problem: "jql" };
          const issues = [...state.entries()]
            .filter(([, v]) => {
              const f = (v.data as { fields?: { labels?: unknown } }).fields;
              return Array.isArray(f?.labels) && f.labels.includes(label);
            })
            .map(([key]) => ({ id: key, key }));
          return { status: 200, body: { issues, isLast: true } };
        }
        const m = /^\/rest\/api\/3\/issue\/([^/]+)\/(transitions|comment)$/.exec(path);
        if (!m) return { status: 404, body: { errorMessages: ["Not found"] }, problem: "path" };
        const issue = state.get(decodeURIComponent(m[1] as string));
        if (!issue)
          return {
            status: 404,
            body: {
              errorMessages: ["Issue does not exist or you do not have permission to see it."],
              errors: {},
            },
            problem: "no issue",
          };
        const transitions = [
          { id: "11", name: "To Do", to: { name: "To Do" } },
          { id: "21", name: "In Progress", to: { name: "In Progress" } },
          { id: "31", name: "Done", to: { name: "Done" } },
        ];
        if (m[2] === "transitions" && method === "GET")
          return {
            status: 200,
            body: {
              expand: "transitions",
              transitions: transitions.filter((t) => t.to.name !== issue.status),
            },
          };
        if (!isJson(headers) || !isObj(body))
          return { status: 400, body: { errorMessages: ["Bad JSON"] }, problem: "not JSON" };
        if (m[2] === "transitions" && method === "POST") {
          const t = isObj(body["transition"])
            ? transitions.find((x) => x.id === (body["transition"] as Record<string, unknown>)["id"])
            : undefined;
          if (!t)
            return {
              status: 400,
              body: { errorMessages: ["Transition id is not valid"], errors: {} },
              problem: "transition",
            };
          issue.status = t.to.name;
          issue.events += 1;
          return { status: 204 };
        }
        if (m[2] === "comment" && method === "POST") {
          if (!isAdf(body["body"]))
            return {
              status: 400,
              body: { errorMessages: [], errors: { comment: "Comment body is not valid ADF" } },
              problem: "comment",
            };
          issue.comments += 1;
          return { status: 201, body: { id: String(issue.comments) } };
        }
        return { status: 405, body: { errorMessages: ["Method not allowed"] }, problem: "method" };
      }
      case "webhook": {
        if (method !== "POST" || path !== FAKE_WEBHOOK_PATH)
          return { status: 404, body: { error: "not found" }, problem: "path" };
        const sig = headers[SIGNATURE_HEADER.toLowerCase()];
        const ts = headers[TIMESTAMP_HEADER.toLowerCase()];
        const v = verifyWebhookSignature({
          secret,
          body: raw,
          signature: typeof sig === "string" ? sig : undefined,
          timestamp: typeof ts === "string" ? ts : undefined,
          now: Date.now(),
        });
        if (v.status === "error") return { status: 401, body: { error: v.error }, problem: v.error };
        if (!isJson(headers) || !isObj(body))
          return { status: 400, body: { error: "JSON body required" }, problem: "not JSON" };
        const key = headers["idempotency-key"];
        if (typeof key !== "string" || key === "")
          return { status: 400, body: { error: "Idempotency-Key required" }, problem: "no idempotency key" };
        const cur = state.get(key);
        if (cur) cur.events += 1;
        else state.set(key, { status: "received", events: 1, comments: 0, data: body });
        return { status: 200, body: { ok: true } };
      }
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const raw = await readBody(req);
      const u = new URL(req.url ?? "/", "http://x");
      let body: unknown;
      try {
        body = raw === "" ? undefined : JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const rec: ReceivedRequest = {
        method: req.method ?? "",
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        raw,
        body,
        status: 0,
      };
      requests.push(rec);
      if (mode === "down") {
        rec.status = -1;
        req.socket.destroy();
        return;
      }
      let a: Answer;
      if (mode === "429")
        a = {
          status: 429,
          body: kind === "slack" ? "rate_limited" : { message: "Too many requests" },
          ...(kind === "slack" ? { contentType: "text/html" } : {}),
        };
      else if (mode === "500")
        a = {
          status: 500,
          body: kind === "slack" ? "internal_error" : { message: "Internal error" },
          ...(kind === "slack" ? { contentType: "text/html" } : {}),
        };
      else a = handle(rec.method, rec.path, u.searchParams, req.headers, raw, body);
      rec.status = a.status;
      if (a.problem !== undefined) rec.problem = a.problem;
      if (a.status >= 200 && a.status < 300) received.push(rec);
      const headers: Record<string, string> = {};
      if (a.status === 429) headers["retry-after"] = retryAfter;
      if (a.body !== undefined) headers["content-type"] = a.contentType ?? "application/json";
      res.writeHead(a.status, headers);
      res.end(
        a.body === undefined ? undefined : typeof a.body === "string" ? a.body : JSON.stringify(a.body),
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  const url =
    kind === "slack"
      ? `${base}${FAKE_SLACK_PATH}`
      : kind === "webhook"
        ? `${base}${FAKE_WEBHOOK_PATH}`
        : base;
  return {
    kind,
    url,
    received,
    requests,
    state,
    setMode(m, o) {
      mode = m;
      if (o?.retryAfter !== undefined) retryAfter = o.retryAfter;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
