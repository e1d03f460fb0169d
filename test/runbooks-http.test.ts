import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { amPayload, testApp, type TestApp } from "./support/app.js";

let dir: string;
let t: TestApp;
let admin: string;
let operator: string;
let viewer: string;

const gated = `
name: gated-restart
risk: high
target: "{{ params.service }}"
params:
  service: { required: true, pattern: "[a-z0-9-]+" }
steps:
  - { id: ok, kind: approval, message: "restart {{ params.service }}?" }
  - { id: act, kind: command, argv: [printf, "%s", "{{ params.service }}"] }
`;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "novasre-rbhttp-"));
  const marker = join(dir, "pwned");
  writeFileSync(join(dir, "gated.yaml"), gated);
  writeFileSync(
    join(dir, "pod-restart.yaml"),
    `
name: pod-restart
target: "{{ params.pod }}"
params:
  pod: { required: true, max_length: 2000000 }
triggers:
  - matchers: [{ label: alertname, op: "=", value: PodDown }]
    params: { pod: "{{ incident.labels.pod }}" }
steps:
  - { id: restart, kind: command, argv: [printf, "%s", "{{ params.pod }}"] }
  - { id: never, kind: command, argv: [touch, "${marker}"], when: "params.pod == 'never-ever'" }
`,
  );
  t = await testApp({
    runbooks: { dirs: [dir], builtin: false },
    incidents: { group_by: ["service", "pod"] },
  });
  [admin, operator, viewer] = await Promise.all([t.token("admin"), t.token("operator"), t.token("viewer")]);
});
afterEach(async () => {
  await t.app.close();
  rmSync(dir, { recursive: true, force: true });
});

async function execution(id: string) {
  await t.app.executor.idle();
  const r = await t.req("GET", `/api/v1/runbook-executions/${id}`, { token: viewer });
  return (
    (await r.json()) as {
      execution: {
        status: string;
        planHash: string;
        results: Record<string, { stdout?: string }>;
        plan: unknown;
      };
    }
  ).execution;
}

describe("runbook API", () => {
  it("lists the library and serves the JSON Schema", async () => {
    const r = await t.req("GET", "/api/v1/runbooks", { token: viewer });
    const names = ((await r.json()) as { runbooks: { name: string }[] }).runbooks.map((x) => x.name);
    expect(names).toEqual(["gated-restart", "pod-restart"]);
    expect((await t.req("GET", "/api/v1/runbooks/schema", { token: viewer })).status).toBe(200);
  });

  it("a viewer cannot approve; the refused attempt is audited; an operator echoing the plan hash can", async () => {
    const r = await t.req("POST", "/api/v1/runbooks/gated-restart/run", {
      token: operator,
      body: { params: { service: "api" } },
    });
    expect(r.status).toBe(202);
    const id = ((await r.json()) as { execution: { id: string } }).execution.id;
    const e = await execution(id);
    expect(e.status).toBe("waiting_approval");
    const denied = await t.req("POST", `/api/v1/runbook-executions/${id}/approve`, {
      token: viewer,
      body: { plan_hash: e.planHash },
    });
    expect(denied.status).toBe(403);
    const wrong = await t.req("POST", `/api/v1/runbook-executions/${id}/approve`, {
      token: operator,
      body: { plan_hash: "a".repeat(64) },
    });
    expect(wrong.status).toBe(400);
    const okr = await t.req("POST", `/api/v1/runbook-executions/${id}/approve`, {
      token: operator,
      body: { plan_hash: e.planHash },
    });
    expect(okr.status).toBe(200);
    const done = await execution(id);
    expect(done.status).toBe("succeeded");
    expect(done.results["act"]?.stdout).toBe("api");
    const audit = (await (
      await t.req("GET", `/api/v1/runbook-executions/${id}/audit`, { token: viewer })
    ).json()) as { audit: { event: string; actor: string }[] };
    expect(audit.audit.filter((a) => a.event === "approval.refused").map((a) => a.actor)).toEqual([
      "user:test-viewer",
      "user:test-operator",
    ]);
    const metrics = await (await t.req("GET", "/metrics")).text();
    expect(metrics).toMatch(
      /runbook_executions_total\{runbook="gated-restart",status="succeeded",mode="live"\} 1/,
    );
  });

  it("inline runbooks need an admin; dry-run returns the plan and runs nothing", async () => {
    const body = { yaml: gated, params: { service: "web" }, dry_run: true };
    expect((await t.req("POST", "/api/v1/runbooks/run", { token: operator, body })).status).toBe(403);
    const r = await t.req("POST", "/api/v1/runbooks/run", { token: admin, body });
    expect(r.status).toBe(200);
    const d = (await r.json()) as { plan: { steps: { step: { argv?: string[] } }[] }; planHash: string };
    expect(d.plan.steps[1]?.step.argv).toEqual(["printf", "%s", "web"]);
    expect(d.planHash).toMatch(/^[0-9a-f]{64}$/);
    const list = (await (await t.req("GET", "/api/v1/runbook-executions", { token: viewer })).json()) as {
      executions: unknown[];
    };
    expect(list.executions).toHaveLength(0);
  });

  it("records refused attempts of viewers in the audit trail", async () => {
    const run = await t.req("POST", "/api/v1/runbooks/gated-restart/run", {
      token: viewer,
      body: { params: { service: "api" } },
    });
    expect(run.status).toBe(403);
    expect(
      (await t.req("POST", "/api/v1/runbooks/halt", { token: viewer, body: { reason: "x" } })).status,
    ).toBe(403);
    const r = await t.req("POST", "/api/v1/runbooks/gated-restart/run", {
      token: operator,
      body: { params: { service: "api" } },
    });
    const id = ((await r.json()) as { execution: { id: string } }).execution.id;
    expect(
      (await t.req("POST", `/api/v1/runbook-executions/${id}/abort`, { token: viewer, body: {} })).status,
    ).toBe(403);
    const global = (await (await t.req("GET", "/api/v1/runbooks/audit", { token: viewer })).json()) as {
      audit: { event: string; actor: string; data: { path: string } }[];
    };
    expect(
      global.audit.filter((a) => a.event === "access.refused").map((a) => `${a.actor} ${a.data.path}`),
    ).toEqual([
      "user:test-viewer /api/v1/runbooks/gated-restart/run",
      "user:test-viewer /api/v1/runbooks/halt",
    ]);
    const own = (await (
      await t.req("GET", `/api/v1/runbook-executions/${id}/audit`, { token: viewer })
    ).json()) as { audit: { event: string }[] };
    expect(own.audit.some((a) => a.event === "access.refused")).toBe(true);
  });

  it("the kill switch: operators halt, only admins resume; runs are refused meanwhile", async () => {
    expect(
      (await t.req("POST", "/api/v1/runbooks/halt", { token: operator, body: { reason: "incident review" } }))
        .status,
    ).toBe(200);
    const r = await t.req("POST", "/api/v1/runbooks/gated-restart/run", {
      token: operator,
      body: { params: { service: "api" } },
    });
    expect(r.status).toBe(503);
    expect(
      (await t.req("POST", "/api/v1/runbooks/resume", { token: operator, body: { reason: "done" } })).status,
    ).toBe(403);
    expect(
      (await t.req("POST", "/api/v1/runbooks/resume", { token: admin, body: { reason: "done" } })).status,
    ).toBe(200);
    expect(
      (
        await t.req("POST", "/api/v1/runbooks/gated-restart/run", {
          token: operator,
          body: { params: { service: "api" } },
        })
      ).status,
    ).toBe(202);
  });

  it("hostile alert labels reach the triggered runbook only as whole arguments", async () => {
    const marker = join(dir, "pwned");
    const hostile = [
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `x; touch ${marker}`,
      "../../etc/passwd",
      "never-ever\u0000",
      "ünï 🚨",
    ];
    let n = 0;
    for (const pod of hostile) {
      t.clock.advance(10 * 60_000);
      const ingest = await t.req("POST", "/api/v1/alerts/alertmanager", {
        token: operator,
        body: amPayload([{ labels: { alertname: "PodDown", service: "shop", pod } }]),
      });
      const opened = ((await ingest.json()) as { incidentsOpened: string[] }).incidentsOpened;
      expect(opened).toHaveLength(1);
      const rem = await t.req("POST", `/api/v1/incidents/${opened[0]}/remediate`, {
        token: operator,
        body: { confidence: 0.9 },
      });
      const started = ((await rem.json()) as { executions: { id: string }[] }).executions;
      if (pod.includes("\u0000")) {
        expect(started).toHaveLength(0);
        continue;
      }
      expect(started).toHaveLength(1);
      const e = await execution((started[0] as { id: string }).id);
      expect(e.status).toBe("succeeded");
      expect(e.results["restart"]?.stdout).toBe(pod);
      n++;
    }
    expect(n).toBe(hostile.length - 1);
    expect(existsSync(marker)).toBe(false);
    // Low confidence starts nothing.
    t.clock.advance(10 * 60_000);
    const ingest = await t.req("POST", "/api/v1/alerts/alertmanager", {
      token: operator,
      body: amPayload([{ labels: { alertname: "PodDown", service: "shop", pod: "p2" } }]),
    });
    const id = ((await ingest.json()) as { incidentsOpened: string[] }).incidentsOpened[0] as string;
    const rem = await t.req("POST", `/api/v1/incidents/${id}/remediate`, {
      token: operator,
      body: { confidence: 0.5 },
    });
    expect(((await rem.json()) as { executions: unknown[] }).executions).toHaveLength(0);
  });
});
