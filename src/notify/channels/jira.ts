import { fail, ok, type Result } from "../../core/index.js";
import type { RefStore } from "../ref-store.js";
import { truncate, type RenderedMessage } from "../render.js";
import type { Notification } from "../types.js";
import type { Channel } from "./channel.js";
import { vendorRequest } from "./http.js";

/** Jira's summary field holds at most 255 characters. */
const JIRA_SUMMARY_MAX_CHARS = 255;
/** Keep descriptions well below Jira's 32767-character field limit. */
const JIRA_TEXT_MAX_CHARS = 30_000;

/** Atlassian Document Format: one paragraph per line of text. */
export function adfDocument(text: string) {
  const lines = truncate(text, JIRA_TEXT_MAX_CHARS).split("\n");
  return {
    type: "doc",
    version: 1,
    content: lines.map((line) =>
      line.trim() === ""
        ? { type: "paragraph", content: [] }
        : { type: "paragraph", content: [{ type: "text", text: line }] },
    ),
  };
}

export function jiraLabel(incidentKey: string): string {
  // Jira labels cannot contain spaces.
  return `novasre-${incidentKey.replace(/[^A-Za-z0-9_.-]/g, "_")}`.slice(0, 255);
}

export function jiraCreatePayload(n: Notification, msg: RenderedMessage, project: string, issueType: string) {
  return {
    fields: {
      project: { key: project },
      issuetype: { name: issueType },
      summary: truncate(msg.title || n.incident.title, JIRA_SUMMARY_MAX_CHARS),
      description: adfDocument(msg.text),
      labels: ["novasre", jiraLabel(n.incident.key)],
    },
  };
}

export interface JiraChannelOptions {
  name: string;
  url: string;
  project: string;
  issueType: string;
  user: string;
  token: string;
  resolveTransition: string;
  timeoutMs: number;
  refs: RefStore;
  render: (n: Notification) => RenderedMessage;
}

/**
 * Jira Cloud REST v3. The first notification for an incident creates an issue and remembers its key
 * in the RefStore; later ones comment on it; resolve applies the configured transition by name.
 */
export class JiraChannel implements Channel {
  readonly type = "jira" as const;
  readonly name: string;
  private readonly base: string;
  private readonly auth: string;
  constructor(private readonly opts: JiraChannelOptions) {
    this.name = opts.name;
    this.base = opts.url.replace(/\/$/, "");
    this.auth = `Basic ${Buffer.from(`${opts.user}:${opts.token}`).toString("base64")}`;
  }

  private call(what: string, method: string, path: string, signal: AbortSignal, body?: unknown) {
    return vendorRequest(
      `jira ${this.name} ${what}`,
      `${this.base}${path}`,
      {
        method,
        headers: {
          authorization: this.auth,
          accept: "application/json",
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      },
      this.opts.timeoutMs,
      signal,
    );
  }

  async send(n: Notification, signal: AbortSignal): Promise<Result<{ ref?: string }>> {
    const issueKey = await this.opts.refs.get(this.name, n.incident.key);
    const msg = this.opts.render(n);
    if (n.kind === "resolve") {
      if (!issueKey) return ok({});
      return this.transition(issueKey, signal);
    }
    if (issueKey) {
      const r = await this.call(
        "comment",
        "POST",
        `/rest/api/3/issue/${encodeURIComponent(issueKey)}/comment`,
        signal,
        { body: adfDocument(`${msg.title}\n\n${msg.text}`) },
      );
      return r.status === "error" ? r : ok({ ref: issueKey });
    }
    // Nothing to acknowledge on an issue that was never created.
    if (n.kind === "acknowledge") return ok({});
    // Jira has no idempotency key: if an earlier create timed out after Jira made the issue, find it
    // by its incident label instead of creating a second one.
    const found = await this.findByLabel(n.incident.key, signal);
    if (found.status === "error") return found;
    if (found.value !== undefined) {
      await this.opts.refs.set(this.name, n.incident.key, found.value);
      const c = await this.call(
        "comment",
        "POST",
        `/rest/api/3/issue/${encodeURIComponent(found.value)}/comment`,
        signal,
        { body: adfDocument(`${msg.title}\n\n${msg.text}`) },
      );
      return c.status === "error" ? c : ok({ ref: found.value });
    }
    const r = await this.call(
      "create",
      "POST",
      "/rest/api/3/issue",
      signal,
      jiraCreatePayload(n, msg, this.opts.project, this.opts.issueType),
    );
    if (r.status === "error") return r;
    let key: string | undefined;
    try {
      key = (JSON.parse(r.value.body) as { key?: string }).key;
    } catch {
      key = undefined;
    }
    if (!key) return fail(`jira ${this.name} create: response has no issue key`, false);
    await this.opts.refs.set(this.name, n.incident.key, key);
    return ok({ ref: key });
  }

  private async findByLabel(incidentKey: string, signal: AbortSignal): Promise<Result<string | undefined>> {
    const jql = `project = "${this.opts.project.replace(/"/g, "")}" AND labels = "${jiraLabel(incidentKey)}" ORDER BY created ASC`;
    const r = await this.call(
      "search",
      "GET",
      `/rest/api/3/search/jql?jql=${encodeURIComponent(jql)}&fields=key&maxResults=1`,
      signal,
    );
    if (r.status === "error") return r;
    try {
      const issues = (JSON.parse(r.value.body) as { issues?: { key?: string }[] }).issues ?? [];
      return ok(issues[0]?.key);
    } catch {
      return fail(`jira ${this.name} search: response is not JSON`, true);
    }
  }

  private async transition(issueKey: string, signal: AbortSignal): Promise<Result<{ ref?: string }>> {
    const path = `/rest/api/3/issue/${encodeURIComponent(issueKey)}/transitions`;
    const list = await this.call("transitions", "GET", path, signal);
    if (list.status === "error") return list;
    let transitions: { id: string; name: string; to?: { name?: string } }[] = [];
    try {
      transitions = (JSON.parse(list.value.body) as { transitions?: typeof transitions }).transitions ?? [];
    } catch {
      return fail(`jira ${this.name} transitions: response is not JSON`, true);
    }
    const want = this.opts.resolveTransition.toLowerCase();
    const t =
      transitions.find((x) => x.name.toLowerCase() === want) ??
      transitions.find((x) => x.to?.name?.toLowerCase() === want);
    if (!t) {
      // Already in the target status (a human closed it) shows up as the transition being absent.
      return fail(
        `jira ${this.name}: no transition named ${JSON.stringify(this.opts.resolveTransition)} on ${issueKey} (available: ${transitions.map((x) => x.name).join(", ") || "none"})`,
        false,
      );
    }
    const r = await this.call("transition", "POST", path, signal, { transition: { id: t.id } });
    return r.status === "error" ? r : ok({ ref: issueKey });
  }
}
