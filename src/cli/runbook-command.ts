import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { loadConfig } from "../config/index.js";
import {
  EXECUTION_STATUSES,
  HALT_SETTING,
  RunbookError,
  loadRunbookFile,
  planHash,
  renderPlan,
  renderTarget,
  resolveParams,
  runbookJsonSchema,
  type Plan,
  type StepResult,
} from "../runbooks/index.js";
import { createRunbookStore, createSettingsStore, openDatabase } from "../storage/index.js";
import { apiTarget, callApi, type ApiTarget } from "./api-client.js";
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from "./output.js";

/** How often `runbook run` polls the server for progress (ms). */
export const PROGRESS_POLL_MS = 500;

const out = (s: string): void => {
  process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);
};

type ApiOpts = { url?: string; token?: string };

function apiOptions(cmd: Command): Command {
  return cmd
    .option("--url <url>", "server base URL (env NOVASRE_URL, default http://127.0.0.1:8480)")
    .option("--token <token>", "API token (env NOVASRE_TOKEN)");
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function paramsOf(list: string[]): Record<string, string> {
  const p: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new CliExit(EXIT_USAGE, `error: --param wants NAME=VALUE, got ${JSON.stringify(kv)}`);
    p[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return p;
}

/** Prints a plan the way an approver reads it: every argv, URL and body as it will be sent. */
export function formatPlan(plan: Plan, hash: string): string {
  const lines = [
    `plan for runbook ${plan.runbook}${plan.target ? ` on target ${plan.target}` : ""}`,
    `params: ${JSON.stringify(plan.params)}`,
  ];
  plan.steps.forEach((ps, i) => {
    const s = ps.step as Record<string, unknown> & { id: string; kind: string };
    lines.push(
      `[${i + 1}] ${s.id} (${s.kind})${ps.when ? `  when: ${ps.when}` : ""}${ps.onFailure !== "rollback" ? `  on_failure: ${ps.onFailure}` : ""}`,
    );
    const show = (k: string, v: unknown) => {
      if (
        v === undefined ||
        v === null ||
        (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0)
      )
        return;
      lines.push(`      ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
    };
    for (const k of [
      "error",
      "argv",
      "env",
      "cwd",
      "method",
      "url",
      "headers",
      "body",
      "provider",
      "verb",
      "target",
      "args",
      "durationMs",
      "message",
      "role",
      "branches",
      "else",
      "probe",
      "deadlineMs",
      "instructions",
    ])
      show(k, s[k]);
    if (ps.rollback) lines.push(`      rollback: ${JSON.stringify(ps.rollback)}`);
  });
  lines.push(`plan hash: ${hash}`);
  return lines.join("\n");
}

interface ExecutionView {
  id: string;
  status: string;
  cursor: number;
  error: string | null;
  planHash: string;
  target: string | null;
  requestedBy: string;
  waiting: { kind: string; stepId: string; deadline: number; role: string; message: string } | null;
  results: Record<string, StepResult>;
  runbook: { name: string; risk: string; steps: { id: string; kind: string }[] };
  plan: Plan;
}

const TERMINAL = new Set(["succeeded", "failed", "rolled_back", "aborted", "interrupted"]);

function stepLine(id: string, r: StepResult): string {
  const extra =
    r.exit_code !== undefined
      ? ` exit ${r.exit_code}`
      : r.http_status !== undefined
        ? ` HTTP ${r.http_status}`
        : r.actor
          ? ` by ${r.actor}`
          : "";
  const outText = (r.stdout ?? "").trim().split("\n").slice(-3).join(" | ");
  return `  ${r.status === "succeeded" ? "ok  " : r.status === "failed" ? "FAIL" : r.status.padEnd(4)} ${id}${extra}${r.error ? `  ${r.error}` : ""}${outText ? `  > ${outText.slice(0, 200)}` : ""}`;
}

async function getExecution(t: ApiTarget, id: string): Promise<ExecutionView> {
  const res = await callApi(t, "GET", `/api/v1/runbook-executions/${encodeURIComponent(id)}`);
  return ((await res.json()) as { execution: ExecutionView }).execution;
}

/** Polls and prints each step as it finishes, until the execution ends or waits on a person. */
async function follow(t: ApiTarget, id: string): Promise<ExecutionView> {
  const printed = new Set<string>();
  let lastStatus = "";
  for (;;) {
    const e = await getExecution(t, id);
    for (const [sid, r] of Object.entries(e.results)) {
      const key = `${sid}:${r.status}:${r.attempts ?? 1}`;
      if (!printed.has(key)) {
        printed.add(key);
        out(stepLine(sid, r));
      }
    }
    if (e.status !== lastStatus) {
      lastStatus = e.status;
      if (e.status === "running") {
        const next = e.runbook.steps[e.cursor];
        if (next) out(`  ...  ${next.id} (${next.kind})`);
      }
    }
    if (TERMINAL.has(e.status)) {
      out(`${e.id} ${e.status}${e.error ? `: ${e.error}` : ""}`);
      return e;
    }
    if (e.waiting) {
      out(
        e.waiting.kind === "approval"
          ? `${e.id} waits for approval (${e.waiting.role}) of step ${e.waiting.stepId}: ${e.waiting.message}\n  approve: novasre runbook approve ${e.id} --plan-hash ${e.planHash}\n  reject:  novasre runbook reject ${e.id} --plan-hash ${e.planHash}`
          : `${e.id} waits for a manual task (${e.waiting.stepId}): ${e.waiting.message}\n  done: novasre runbook done ${e.id} --note "what you did"`,
      );
      return e;
    }
    await new Promise((r) => setTimeout(r, PROGRESS_POLL_MS));
  }
}

export function registerRunbookCommand(program: Command): void {
  const rb = program
    .command("runbook")
    .description("validate, run and supervise runbooks (the one guarded executor)");

  rb.command("validate")
    .argument("<files...>", "runbook YAML files")
    .description("check runbook files; every problem is listed with line and column")
    .action(async (files: string[]) => {
      let bad = 0;
      for (const f of files) {
        try {
          const l = await loadRunbookFile(f);
          out(`${f}: ok (${l.runbook.name}, ${l.runbook.steps.length} steps, risk ${l.runbook.risk})`);
        } catch (e) {
          if (!(e instanceof RunbookError)) throw e;
          bad++;
          process.stderr.write(`${e.format()}\n`);
        }
      }
      if (bad) throw new CliExit(EXIT_USAGE, `${bad} file${bad === 1 ? "" : "s"} with problems`);
    });

  rb.command("schema")
    .description("print the JSON Schema of runbook files, for editors")
    .action(() => out(JSON.stringify(runbookJsonSchema(), null, 2)));

  apiOptions(
    rb
      .command("run")
      .argument("<runbook>", "a runbook YAML file, or the name of a library runbook on the server")
      .option("-p, --param <name=value>", "a parameter (repeatable)", collect, [])
      .option("--dry-run", "print the exact plan and run nothing")
      .option("--shadow", "record what would run, run nothing")
      .option("--incident <id>", "tie the execution to an incident (its labels become incident.labels)")
      .option("--reason <text>", "why, for the audit", "")
      .option("--detach", "do not follow progress")
      .option("--json", "print JSON"),
  ).action(
    async (
      ref: string,
      opts: ApiOpts & {
        param: string[];
        dryRun?: boolean;
        shadow?: boolean;
        incident?: string;
        reason: string;
        detach?: boolean;
        json?: boolean;
      },
    ) => {
      const params = paramsOf(opts.param);
      const isFile = existsSync(ref);
      if (opts.dryRun && isFile && !opts.incident) {
        // A file's plan needs no server: render it here; nothing runs.
        const { runbook, baseDir } = await loadRunbookFile(ref);
        const r = resolveParams(runbook, params);
        if (r.problems.length) throw new CliExit(EXIT_USAGE, `error: ${r.problems.join("; ")}`);
        const plan = renderPlan(
          runbook,
          {
            params: r.params,
            incident: { id: null, labels: {} },
            target: renderTarget(runbook, r.params, {}),
          },
          baseDir,
        );
        if (opts.json) out(JSON.stringify({ plan, planHash: planHash(plan) }, null, 2));
        else out(formatPlan(plan, planHash(plan)));
        return;
      }
      const t = apiTarget(opts);
      const body: Record<string, unknown> = {
        params,
        dry_run: Boolean(opts.dryRun),
        mode: opts.shadow ? "shadow" : "live",
        reason: opts.reason,
      };
      if (opts.incident) body["incident_id"] = opts.incident;
      let res: Response;
      if (isFile) {
        const { readFile } = await import("node:fs/promises");
        const yaml = await readFile(ref, "utf8");
        await loadRunbookFile(ref);
        res = await callApi(t, "POST", "/api/v1/runbooks/run", { ...body, yaml });
      } else res = await callApi(t, "POST", `/api/v1/runbooks/${encodeURIComponent(ref)}/run`, body);
      const data = (await res.json()) as {
        plan?: Plan;
        planHash?: string;
        problems?: string[];
        execution?: ExecutionView;
      };
      if (opts.dryRun) {
        if (opts.json) out(JSON.stringify(data, null, 2));
        else {
          if (data.problems?.length) process.stderr.write(`problems: ${data.problems.join("; ")}\n`);
          out(formatPlan(data.plan as Plan, data.planHash as string));
        }
        return;
      }
      const e = data.execution as ExecutionView;
      if (opts.json && opts.detach) {
        out(JSON.stringify(e, null, 2));
        return;
      }
      out(`started ${e.id} (${e.runbook.name}${e.target ? ` on ${e.target}` : ""}); plan hash ${e.planHash}`);
      if (opts.detach) return;
      const last = await follow(t, e.id);
      if (last.status !== "succeeded" && TERMINAL.has(last.status)) throw new CliExit(EXIT_FAILURE);
    },
  );

  apiOptions(
    rb
      .command("list")
      .description("list executions, newest first")
      .addOption(new Option("--status <list>", `comma-separated: ${EXECUTION_STATUSES.join(",")}`))
      .option("--runbook <name>")
      .option("--target <target>")
      .option("--incident <id>")
      .option("--limit <n>", "at most this many", "50")
      .option("--json", "print JSON"),
  ).action(
    async (
      opts: ApiOpts & {
        status?: string;
        runbook?: string;
        target?: string;
        incident?: string;
        limit: string;
        json?: boolean;
      },
    ) => {
      const q = new URLSearchParams({ limit: opts.limit });
      for (const k of ["status", "runbook", "target", "incident"] as const) if (opts[k]) q.set(k, opts[k]);
      const res = await callApi(apiTarget(opts), "GET", `/api/v1/runbook-executions?${q.toString()}`);
      const body = (await res.json()) as {
        executions: {
          id: string;
          runbook: string;
          status: string;
          target: string | null;
          cursor: number;
          steps: number;
          createdAt: number;
          requestedBy: string;
        }[];
      };
      if (opts.json) return out(JSON.stringify(body, null, 2));
      if (!body.executions.length) return out("no executions");
      for (const e of body.executions)
        out(
          `${e.id}  ${e.status.padEnd(16)} ${e.runbook.padEnd(24)} ${(e.target ?? "-").padEnd(16)} step ${Math.min(e.cursor + 1, e.steps)}/${e.steps}  ${new Date(e.createdAt).toISOString()}  ${e.requestedBy}`,
        );
    },
  );

  apiOptions(
    rb
      .command("show")
      .argument("<id>")
      .description("an execution: plan, step results, audit trail")
      .option("--json", "print JSON"),
  ).action(async (id: string, opts: ApiOpts & { json?: boolean }) => {
    const t = apiTarget(opts);
    const e = await getExecution(t, id);
    const audit = (
      (await (
        await callApi(t, "GET", `/api/v1/runbook-executions/${encodeURIComponent(id)}/audit`)
      ).json()) as {
        audit: { at: number; actor: string; event: string; stepId: string | null; attempt: number | null }[];
      }
    ).audit;
    if (opts.json) return out(JSON.stringify({ execution: e, audit }, null, 2));
    out(`${e.id}  ${e.runbook.name}  ${e.status}${e.error ? `: ${e.error}` : ""}`);
    out(formatPlan(e.plan, e.planHash));
    out("results:");
    for (const [sid, r] of Object.entries(e.results)) out(stepLine(sid, r));
    out("audit:");
    for (const a of audit)
      out(
        `  ${new Date(a.at).toISOString()}  ${a.event.padEnd(24)} ${(a.stepId ?? "").padEnd(16)} ${a.attempt ?? ""}  ${a.actor}`,
      );
  });

  for (const [name, approve] of [
    ["approve", true],
    ["reject", false],
  ] as const) {
    apiOptions(
      rb
        .command(name)
        .argument("<id>")
        .description(
          `${name} the plan an execution waits on; echo the plan hash you reviewed (see \`runbook show\`)`,
        )
        .requiredOption("--plan-hash <hash>", "the plan hash shown with the plan")
        .option("--comment <text>", "for the audit", ""),
    ).action(async (id: string, opts: ApiOpts & { planHash: string; comment: string }) => {
      const t = apiTarget(opts);
      await callApi(t, "POST", `/api/v1/runbook-executions/${encodeURIComponent(id)}/${name}`, {
        plan_hash: opts.planHash,
        comment: opts.comment,
      });
      out(`${approve ? "approved" : "rejected"} ${id}`);
      if (approve) await follow(t, id);
    });
  }

  apiOptions(
    rb
      .command("done")
      .argument("<id>")
      .description("record the manual task an execution waits on as done")
      .option("--note <text>", "what was done", "")
      .option("--not-done", "record that it could not be done (the step fails)"),
  ).action(async (id: string, opts: ApiOpts & { note: string; notDone?: boolean }) => {
    const t = apiTarget(opts);
    await callApi(t, "POST", `/api/v1/runbook-executions/${encodeURIComponent(id)}/complete`, {
      done: !opts.notDone,
      note: opts.note,
    });
    await follow(t, id);
  });

  apiOptions(
    rb
      .command("abort")
      .argument("<id>")
      .description("abort an execution now")
      .option("--rollback", "also roll back completed steps"),
  ).action(async (id: string, opts: ApiOpts & { rollback?: boolean }) => {
    const res = await callApi(
      apiTarget(opts),
      "POST",
      `/api/v1/runbook-executions/${encodeURIComponent(id)}/abort`,
      { rollback: Boolean(opts.rollback) },
    );
    const e = ((await res.json()) as { execution: ExecutionView }).execution;
    out(`${e.id} ${e.status}${e.error ? `: ${e.error}` : ""}`);
  });

  for (const [name, halted] of [
    ["halt", true],
    ["resume", false],
  ] as const) {
    apiOptions(
      rb
        .command(name)
        .description(
          halted
            ? "kill switch: stop all automation now (survives restarts)"
            : "resume automation after a halt (admin)",
        )
        .requiredOption("--reason <text>", "why, for the audit")
        .option("--direct", "write the switch in the database named by the config (when the server is down)")
        .option("-c, --config <file>", "config file for --direct"),
    ).action(async (opts: ApiOpts & { reason: string; direct?: boolean; config?: string }) => {
      if (opts.direct) {
        const cfg = await loadConfig(opts.config ?? process.env["NOVASRE_CONFIG"]);
        const db = await openDatabase(cfg.storage.url);
        try {
          const now = Date.now();
          const actor = `cli:${process.env["USER"] ?? "unknown"}`;
          await createSettingsStore(db.db).set(
            HALT_SETTING,
            { halted, by: actor, reason: opts.reason, at: now },
            now,
          );
          await createRunbookStore(db).appendAudit([
            {
              executionId: null,
              at: now,
              actor,
              event: halted ? "halt" : "resume",
              stepId: null,
              attempt: null,
              data: { reason: opts.reason, direct: true },
            },
          ]);
        } finally {
          await db.close();
        }
      } else await callApi(apiTarget(opts), "POST", `/api/v1/runbooks/${name}`, { reason: opts.reason });
      out(halted ? "automation halted" : "automation resumed");
    });
  }

  apiOptions(
    rb
      .command("suggest")
      .argument("<incident>")
      .description("runbooks ranked by past success on similar incidents")
      .option("--json", "print JSON"),
  ).action(async (incident: string, opts: ApiOpts & { json?: boolean }) => {
    const res = await callApi(
      apiTarget(opts),
      "GET",
      `/api/v1/incidents/${encodeURIComponent(incident)}/runbook-suggestions`,
    );
    const body = (await res.json()) as {
      signature: string;
      suggestions: {
        runbook: string;
        score: number;
        successes: number;
        attempts: number;
        bestSimilarity: number;
      }[];
    };
    if (opts.json) return out(JSON.stringify(body, null, 2));
    out(`signature: ${body.signature}`);
    if (!body.suggestions.length) return out("no runbook has been used on a similar incident yet");
    for (const s of body.suggestions)
      out(
        `  ${s.score.toFixed(2)}  ${s.runbook.padEnd(28)} ${s.successes}/${s.attempts} succeeded  (closest similarity ${s.bestSimilarity.toFixed(2)})`,
      );
  });

  apiOptions(
    rb
      .command("draft")
      .description("write a draft runbook from operator notes on past incidents of a signature")
      .requiredOption("--signature <sig>", "as shown by `runbook suggest`")
      .option("-o, --out <file>", "write to FILE"),
  ).action(async (opts: ApiOpts & { signature: string; out?: string }) => {
    const res = await callApi(
      apiTarget(opts),
      "GET",
      `/api/v1/runbooks/drafts?signature=${encodeURIComponent(opts.signature)}`,
    );
    const d = (await res.json()) as { yaml: string; incidents: number };
    if (opts.out) {
      await writeFile(opts.out, d.yaml);
      out(`wrote ${opts.out} (from ${d.incidents} incident${d.incidents === 1 ? "" : "s"})`);
    } else out(d.yaml);
  });

  apiOptions(
    rb.command("library").description("runbooks the server has loaded").option("--json", "print JSON"),
  ).action(async (opts: ApiOpts & { json?: boolean }) => {
    const res = await callApi(apiTarget(opts), "GET", "/api/v1/runbooks");
    const body = (await res.json()) as {
      runbooks: {
        name: string;
        risk: string;
        category: string;
        steps: number;
        triggers: number;
        draft: boolean;
        description: string;
      }[];
    };
    if (opts.json) return out(JSON.stringify(body, null, 2));
    for (const r of body.runbooks)
      out(
        `${r.name.padEnd(28)} ${r.category.padEnd(12)} risk ${r.risk.padEnd(8)} ${r.steps} steps${r.triggers ? `, ${r.triggers} trigger(s)` : ""}${r.draft ? " (draft)" : ""}  ${r.description.split("\n")[0]?.slice(0, 60) ?? ""}`,
      );
  });
}
