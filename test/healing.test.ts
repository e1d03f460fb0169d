import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { testApp, type TestApp } from "./support/app.js";

function listen(port = 0): Promise<Server> {
  const server = createServer((_req, res) => res.end("ok"));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

const stop = (s: Server) =>
  new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });

describe("self-healing in the app", () => {
  let t: TestApp | undefined;
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await t?.app.close();
    if (server?.listening) await stop(server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a failing HTTP probe opens an incident, starts the policy's runbook, and resolves when it is back", async () => {
    server = await listen();
    const port = (server.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), "novasre-healing-"));
    const flag = join(dir, "restarted");
    writeFileSync(
      join(dir, "restart-web.yaml"),
      `name: restart-web
target: "{{ params.service }}"
params: { service: { required: true } }
steps:
  - id: restart
    kind: command
    argv: [touch, "${flag}"]
`,
    );
    t = await testApp({
      runbooks: { dirs: [dir], builtin: false },
      healing: {
        targets: [
          {
            id: "web-1",
            labels: { service: "web" },
            probes: [
              { name: "http", http: { url: `http://127.0.0.1:${port}/healthz` }, failure_threshold: 2 },
            ],
          },
        ],
        policies: [
          {
            name: "restart-web",
            when: { state: ["critical"], matchers: ['service="web"'] },
            runbook: "restart-web",
            params: { service: "{{ target.labels.service }}" },
          },
        ],
      },
    });
    const { app, clock } = t;
    const probe = async () => {
      clock.advance(10_000);
      await app.healing.monitor.tick();
      await app.healing.idle();
    };

    await probe();
    expect(app.healing.monitor.state("web-1")?.state).toBe("healthy");
    expect(await app.incidents.list({ limit: 10 })).toEqual([]);

    await stop(server);
    await probe();
    expect(app.healing.monitor.state("web-1")?.state).toBe("healthy"); // one failure is below the threshold
    await probe();
    expect(app.healing.monitor.state("web-1")).toMatchObject({
      state: "critical",
      failing: [{ probe: "http", severity: "critical" }],
    });

    const [incident] = await app.incidents.list({ limit: 10 });
    expect(incident?.status).toBe("triggered");
    const [alert] = await app.incidents.alerts(incident?.id as string);
    expect(alert).toMatchObject({
      source: "healing",
      status: "firing",
      labels: {
        alertname: "HealthCheckFailing",
        service: "web",
        target: "web-1",
        severity: "critical",
        source: "healing",
      },
      annotations: { probe: "http", state: "critical" },
    });
    expect(alert?.annotations["summary"]).toContain("ECONNREFUSED");

    // The policy's runbook went through the executor, tied to the incident, as actor healing:<policy>.
    await app.executor.idle();
    const res = await t.req("GET", "/api/v1/runbook-executions", { token: await t.token("viewer") });
    const { executions } = (await res.json()) as { executions: Record<string, unknown>[] };
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({
      runbook: "restart-web",
      incidentId: incident?.id,
      mode: "live",
      status: "succeeded",
      requestedBy: "healing:restart-web",
    });
    expect(existsSync(flag)).toBe(true);
    const timeline = await app.incidents.timeline(incident?.id as string);
    expect(
      timeline.some(
        (e) =>
          e.actor === "system:runbooks" &&
          String(e.data["text"]).startsWith("runbook restart-web started (live)"),
      ),
    ).toBe(true);
    expect(await app.registry.getSingleMetricAsString("self_healing_attempts_total")).toContain(
      'self_healing_attempts_total{target="web-1",runbook="restart-web"} 1',
    );

    server = await listen(port);
    await probe();
    expect(app.healing.monitor.state("web-1")?.state).toBe("healthy");
    const after = await app.incidents.get(incident?.id as string);
    expect(after.status).toBe("resolved");
    const [resolved] = await app.incidents.alerts(incident?.id as string);
    expect(resolved?.status).toBe("resolved");

    // Shutdown wakes the verification, which finds the signal cleared: the controller hears of the success.
    await app.close();
    t = undefined;
    expect(await app.registry.getSingleMetricAsString("self_healing_successes_total")).toContain(
      'self_healing_successes_total{target="web-1",runbook="restart-web"} 1',
    );
  });
});
