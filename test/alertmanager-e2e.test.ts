import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type App } from "../src/app.js";
import { validateConfig } from "../src/config/index.js";
import { silentLogger } from "../src/core/index.js";
import { createToken } from "../src/http/index.js";
import { createTokenStore } from "../src/storage/index.js";
import { alertmanagerBinary, startAlertmanager, type RunningAlertmanager } from "./support/alertmanager.js";
import { waitFor } from "./support/ports.js";

describe.skipIf(!alertmanagerBinary)("a real Alertmanager posting to our webhook", () => {
  let app: App;
  let am: RunningAlertmanager;
  let token: string;

  beforeAll(async () => {
    app = await createApp(validateConfig({ storage: { url: "sqlite::memory:" }, server: { port: 0 } }), {
      logger: silentLogger(),
    });
    const base = await app.listen();
    token = (await createToken(createTokenStore(app.database.db), "alertmanager", "operator", Date.now()))
      .token;
    am = await startAlertmanager(`
route:
  receiver: novasre
  group_by: [service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: novasre
    webhook_configs:
      - url: ${base}/api/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${token}
`);
  });
  afterAll(async () => {
    await am?.stop();
    await app?.close();
  });

  it("opens an incident from Alertmanager's notification and resolves it when Alertmanager does", async () => {
    const now = new Date();
    const alerts = [
      {
        labels: { alertname: "HighLatency", service: "checkout", severity: "critical" },
        annotations: { summary: "p99 latency 3s" },
        startsAt: now.toISOString(),
      },
      {
        labels: { alertname: "HighErrorRate", service: "checkout", severity: "warning" },
        annotations: {},
        startsAt: now.toISOString(),
      },
    ];
    const posted = await fetch(`${am.url}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(alerts),
    });
    expect(posted.ok).toBe(true);

    const inc = await waitFor("incident from alertmanager", async () => {
      const [i] = await app.incidents.list({ limit: 5 });
      if (!i) return undefined;
      return (await app.incidents.alerts(i.id)).length === 2 ? i : undefined;
    });
    expect(inc.severity).toBe("P1");
    expect(inc.services).toEqual(["checkout"]);

    const ended = new Date(Date.now() - 1000).toISOString();
    await fetch(`${am.url}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(alerts.map((a) => ({ ...a, endsAt: ended }))),
    });
    const resolved = await waitFor("auto-resolve", async () => {
      const i = await app.incidents.get(inc.id);
      return i.status === "resolved" ? i : undefined;
    });
    expect(resolved.resolvedAt).not.toBeNull();
    const kinds = (await app.incidents.timeline(inc.id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === "alert_resolved")).toHaveLength(2);
  });
});
