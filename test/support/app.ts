import { ManualClock, silentLogger } from "../../src/core/index.js";
import { validateConfig, type ConfigInput } from "../../src/config/index.js";
import { createApp, type App } from "../../src/app.js";
import { createToken, type Role } from "../../src/http/index.js";
import { createTokenStore } from "../../src/storage/index.js";

export interface TestApp {
  app: App;
  clock: ManualClock;
  token(role: Role): Promise<string>;
  /** A request to the app without a port (Hono's fetch). */
  req(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
  ): Promise<Response>;
}

export async function testApp(config: ConfigInput = {}, env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  const app = await createApp(validateConfig({ storage: { url: "sqlite::memory:" }, ...config }), {
    clock,
    logger: silentLogger(),
    env,
  });
  const tokens = createTokenStore(app.database.db);
  return {
    app,
    clock,
    token: async (role) => (await createToken(tokens, `test-${role}`, role, clock.now())).token,
    req: (method, path, opts = {}) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers["authorization"] = `Bearer ${opts.token}`;
      let body: string | undefined = opts.raw;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers["content-type"] = "application/json";
      }
      return Promise.resolve(
        app.api.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) }),
      );
    },
  };
}

export function amPayload(
  alerts: {
    labels: Record<string, string>;
    status?: "firing" | "resolved";
    startsAt?: string;
    endsAt?: string;
    annotations?: Record<string, string>;
  }[],
) {
  return {
    version: "4",
    groupKey: "{}:{}",
    truncatedAlerts: 0,
    status: alerts.some((a) => (a.status ?? "firing") === "firing") ? "firing" : "resolved",
    receiver: "novasre",
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://alertmanager.example:9093",
    alerts: alerts.map((a) => ({
      status: a.status ?? "firing",
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt ?? "2026-06-01T11:59:00Z",
      endsAt: a.endsAt ?? "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus.example:9090/graph",
      fingerprint: "abc",
    })),
  };
}
