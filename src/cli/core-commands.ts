import { writeFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { createApp, VERSION } from "../app.js";
import { configJsonSchema, loadConfig } from "../config/index.js";
import { formatDuration } from "../core/index.js";
import { ROLES, createToken, type Role } from "../http/index.js";
import type { Incident } from "../incidents/index.js";
import { createTokenStore, openDatabase } from "../storage/index.js";
import { apiTarget, callApi } from "./api-client.js";
import { apiOptions, configOption } from "./options.js";
import { CliExit, EXIT_USAGE } from "./output.js";

const out = (s: string): void => {
  process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
};

function incidentLine(i: Incident & { timings?: { timeToResolve: number | null } }): string {
  const age = formatDuration(Date.now() - i.createdAt);
  return `${i.id}  ${i.severity}  ${i.status.padEnd(12)}  ${(i.services.join(",") || "-").padEnd(16)}  ${age.padStart(8)} ago  ${i.title}`;
}

/** serve, config, token, incident: the commands of the platform itself. */
export function registerCoreCommands(program: Command): void {
  program
    .command("serve")
    .description("run the server: receivers, REST API, /metrics")
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      const config = await loadConfig(opts.config);
      const app = await createApp(config);
      // Faults a crashed chaos run left behind (the ledger) are reverted before anything else runs.
      const recovered = await app.chaos.recover();
      if (recovered.reverted.length)
        out(`chaos: reverted ${recovered.reverted.length} fault(s) left over by a crashed run`);
      const tokens = createTokenStore(app.database.db);
      let bootstrap: string | undefined;
      if ((await tokens.list()).length === 0)
        bootstrap = (await createToken(tokens, "bootstrap-admin", "admin", Date.now())).token;
      const url = await app.listen();
      out(`NovaCron SRE ${VERSION} listening on ${url}`);
      out(`  API (OpenAPI document)   ${url}/openapi.json`);
      out(`  Alertmanager webhook     ${url}/api/v1/alerts/alertmanager`);
      out(`  Events API (PD v2 shape) ${url}/v2/enqueue`);
      out(`  OTLP traces (HTTP)       ${url}/v1/traces`);
      out(`  Metrics                  ${url}/metrics`);
      out(`  Storage                  ${config.storage.url}`);
      if (bootstrap)
        out(
          `\nNo API tokens existed, so an admin token was created. It is shown only this once:\n  ${bootstrap}\n`,
        );
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          app.logger.info({ signal: sig }, "shutting down");
          void app.close().then(resolve, resolve);
        };
        process.once("SIGINT", () => stop("SIGINT"));
        process.once("SIGTERM", () => stop("SIGTERM"));
      });
    });

  const config = program.command("config").description("check the config file, or print its JSON Schema");
  config
    .command("check")
    .argument("<file>", "YAML config file")
    .description("validate FILE (with NOVASRE_* environment overrides) and list every problem")
    .action(async (file: string) => {
      await loadConfig(file);
      out(`${file}: ok`);
    });
  config
    .command("schema")
    .description("print the JSON Schema of the config file, for editors")
    .action(() => out(JSON.stringify(configJsonSchema(), null, 2)));

  const token = program
    .command("token")
    .description("manage API tokens (stored hashed; works on the database directly)");
  token
    .command("create")
    .description("create a token and print its secret once")
    .addOption(new Option("--role <role>", "what it may do").choices(ROLES).makeOptionMandatory())
    .option("--name <name>", "a name for the audit trail", "cli")
    .addOption(configOption())
    .action(async (opts: { role: Role; name: string; config?: string }) => {
      const cfg = await loadConfig(opts.config);
      const db = await openDatabase(cfg.storage.url);
      try {
        const t = await createToken(createTokenStore(db.db), opts.name, opts.role, Date.now());
        out(t.token);
        process.stderr.write(
          `created ${t.role} token ${t.id} (${t.name}); the secret above is not stored and cannot be shown again\n`,
        );
      } finally {
        await db.close();
      }
    });
  token
    .command("list")
    .description("list tokens (never their secrets)")
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      const cfg = await loadConfig(opts.config);
      const db = await openDatabase(cfg.storage.url);
      try {
        for (const t of await createTokenStore(db.db).list()) {
          out(`${t.id}  ${t.role.padEnd(8)}  ${t.name}${t.revokedAt ? "  (revoked)" : ""}`);
        }
      } finally {
        await db.close();
      }
    });
  token
    .command("revoke")
    .argument("<id>")
    .description("revoke a token by id")
    .addOption(configOption())
    .action(async (id: string, opts: { config?: string }) => {
      const cfg = await loadConfig(opts.config);
      const db = await openDatabase(cfg.storage.url);
      try {
        if (!(await createTokenStore(db.db).revoke(id, Date.now())))
          throw new CliExit(EXIT_USAGE, `error: token ${id} not found or already revoked`);
        out(`revoked ${id}`);
      } finally {
        await db.close();
      }
    });

  const incident = program
    .command("incident")
    .description("list, inspect and act on incidents (through the REST API)");
  apiOptions(
    incident
      .command("list")
      .description("list incidents, newest first")
      .option("--status <list>", "comma-separated: triggered,acknowledged,mitigated,resolved,closed")
      .option("--severity <list>", "comma-separated: P0,P1,P2,P3")
      .option("--service <name>")
      .option("--limit <n>", "at most this many", "50")
      .option("--json", "print JSON"),
  ).action(
    async (opts: {
      status?: string;
      severity?: string;
      service?: string;
      limit: string;
      json?: boolean;
      url?: string;
      token?: string;
    }) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.status) q.set("status", opts.status);
      if (opts.severity) q.set("severity", opts.severity);
      if (opts.service) q.set("service", opts.service);
      const res = await callApi(apiTarget(opts), "GET", `/api/v1/incidents?${q.toString()}`);
      const body = (await res.json()) as { incidents: Incident[] };
      if (opts.json) out(JSON.stringify(body, null, 2));
      else if (!body.incidents.length) out("no incidents");
      else for (const i of body.incidents) out(incidentLine(i));
    },
  );
  apiOptions(
    incident
      .command("show")
      .argument("<id>")
      .description("an incident with its alerts and timeline")
      .option("--json", "print JSON"),
  ).action(async (id: string, opts: { json?: boolean; url?: string; token?: string }) => {
    const res = await callApi(apiTarget(opts), "GET", `/api/v1/incidents/${encodeURIComponent(id)}`);
    const body = (await res.json()) as {
      incident: Incident;
      alerts: { labels: Record<string, string>; status: string }[];
      timeline: { at: number; kind: string; actor: string; data: unknown }[];
    };
    if (opts.json) {
      out(JSON.stringify(body, null, 2));
      return;
    }
    out(incidentLine(body.incident));
    out("alerts:");
    for (const a of body.alerts) out(`  ${a.status.padEnd(8)} ${JSON.stringify(a.labels)}`);
    out("timeline:");
    for (const e of body.timeline)
      out(
        `  ${new Date(e.at).toISOString()}  ${e.kind.padEnd(16)} ${e.actor.padEnd(16)} ${JSON.stringify(e.data)}`,
      );
  });
  for (const [name, path, desc] of [
    ["ack", "acknowledge", "acknowledge an incident"],
    ["mitigate", "mitigate", "mark an incident mitigated"],
    ["resolve", "resolve", "resolve an incident"],
    ["close", "close", "close a resolved incident"],
  ] as const) {
    apiOptions(incident.command(name).argument("<id>").description(desc)).action(
      async (id: string, opts: { url?: string; token?: string }) => {
        const res = await callApi(
          apiTarget(opts),
          "POST",
          `/api/v1/incidents/${encodeURIComponent(id)}/${path}`,
        );
        out(incidentLine(((await res.json()) as { incident: Incident }).incident));
      },
    );
  }
  apiOptions(
    incident.command("note").argument("<id>").argument("<text>").description("add a note to the timeline"),
  ).action(async (id: string, text: string, opts: { url?: string; token?: string }) => {
    await callApi(apiTarget(opts), "POST", `/api/v1/incidents/${encodeURIComponent(id)}/notes`, { text });
    out("noted");
  });
  apiOptions(
    incident.command("assign").argument("<id>").argument("<assignee>").description("assign an incident"),
  ).action(async (id: string, assignee: string, opts: { url?: string; token?: string }) => {
    const res = await callApi(apiTarget(opts), "POST", `/api/v1/incidents/${encodeURIComponent(id)}/assign`, {
      assignee,
    });
    out(incidentLine(((await res.json()) as { incident: Incident }).incident));
  });
  apiOptions(
    incident
      .command("postmortem")
      .argument("<id>")
      .description("print (or write) a Markdown postmortem draft")
      .option("-o, --out <file>", "write to FILE"),
  ).action(async (id: string, opts: { out?: string; url?: string; token?: string }) => {
    const res = await callApi(
      apiTarget(opts),
      "GET",
      `/api/v1/incidents/${encodeURIComponent(id)}/postmortem`,
    );
    const md = await res.text();
    if (opts.out) {
      await writeFile(opts.out, md);
      out(`wrote ${opts.out}`);
    } else out(md);
  });
}
