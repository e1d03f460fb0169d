import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellWords } from "./ctk.js";
import { ChaosEngine } from "./engine.js";
import { ChaosState } from "./state.js";
import { parseExperiment, resolveExperiment } from "./validate.js";

let server: Server;
let port: number;
let dir: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ status: "healthy", path: req.url }));
  });
  port = await new Promise((r) =>
    server.listen(0, "127.0.0.1", () => r((server.address() as { port: number }).port)),
  );
  dir = await mkdtemp(join(tmpdir(), "novasre-ctk-"));
});
afterAll(async () => {
  server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("experiment validation", () => {
  it("lists every problem with its path", () => {
    const r = parseExperiment(
      `title: bad
method:
  - fault: { name: a, type: cpu, workers: 0, load_pct: 150 }
  - fault: { name: a, type: toxic, proxy: nope, toxic: { type: latency, attributes: { latncy: 1 } } }
  - wiat: 5s
steady_state:
  probes:
    - name: p
      http: { url: "\${base}/x" }
      tolerance: { ragne: [1, 2] }
`,
      "x.yaml",
    );
    const text = r.problems.map((p) => `${p.path}: ${p.message}`).join("\n");
    expect(r.experiment).toBeUndefined();
    expect(text).toMatch(/method\[0\]\.fault\.workers/);
    expect(text).toMatch(/method\[0\]\.fault\.load_pct/);
    expect(text).toMatch(/ragne.*did you mean "range"/);
    expect(r.problems.length).toBeGreaterThanOrEqual(4);
  });

  it("checks references across fields once the shape is right", () => {
    const r = parseExperiment(
      `title: refs
method:
  - fault: { name: a, type: toxic, proxy: nope, toxic: { type: latency, attributes: { latncy: 1 } } }
  - probe: { name: p, http: { url: "\${base}/x" } }
`,
      "x.yaml",
    );
    const text = r.problems.map((p) => `${p.path}: ${p.message}`).join("\n");
    expect(text).toMatch(/no proxy nope/);
    expect(text).toMatch(/toxic\.attributes\.latncy: unknown key/);
    expect(text).toMatch(/\$\{base\} is not in configuration/);
  });

  it("substitutes configuration and secrets from the environment, and refuses when one is missing", () => {
    const r = parseExperiment(
      `title: t
configuration: { base: { env: BASE_URL, default: "http://localhost" }, n: 3 }
secrets: { tok: { env: API_TOKEN } }
method:
  - probe: { name: p, http: { url: "\${base}/x", headers: { authorization: "Bearer \${tok}" } } }
`,
      "x.yaml",
    );
    expect(r.problems).toEqual([]);
    const exp = r.experiment!;
    expect(resolveExperiment(exp, {}).status).toBe("error");
    const ok = resolveExperiment(exp, { API_TOKEN: "t0k", BASE_URL: "http://h:1" });
    const step = ok.status === "ok" ? ok.value.method[0] : undefined;
    const probe = step && "probe" in step ? step.probe : undefined;
    expect(probe?.http?.url).toBe("http://h:1/x");
    expect(probe?.http?.headers).toEqual({ authorization: "Bearer t0k" });
  });
});

describe("Chaos Toolkit experiments", () => {
  const ctk = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      version: "1.0.0",
      title: "service stays healthy",
      description: "ctk format",
      configuration: { base: `http://127.0.0.1:${port}` },
      "steady-state-hypothesis": {
        title: "healthy",
        probes: [
          {
            type: "probe",
            name: "status-200",
            tolerance: 200,
            provider: { type: "http", url: "${base}/health", timeout: 3 },
          },
          {
            type: "probe",
            name: "says-healthy",
            tolerance: { type: "jsonpath", path: "$.status", expect: "healthy" },
            provider: { type: "http", url: "${base}/health" },
          },
          { type: "probe", name: "true-exits-0", tolerance: 0, provider: { type: "process", path: "true" } },
          {
            type: "probe",
            name: "regex",
            tolerance: { type: "regex", pattern: "^hello", target: "stdout" },
            provider: { type: "process", path: "echo", arguments: "'hello world'" },
          },
        ],
      },
      method: [
        {
          type: "action",
          name: "poke",
          provider: { type: "http", url: "${base}/poke", method: "POST" },
          pauses: { after: 0.1 },
        },
        { ref: "status-200" },
      ],
      rollbacks: [{ type: "action", name: "noop", provider: { type: "process", path: "true" } }],
      ...extra,
    });

  it("runs the http and process providers and tolerances as they are", async () => {
    const l = parseExperiment(ctk(), "exp.json");
    expect(l.format).toBe("chaostoolkit");
    expect(l.problems).toEqual([]);
    const j = await new ChaosEngine({ state: new ChaosState(dir), level: "dev", watchdog: false }).run(
      l.experiment!,
    );
    expect(j.status).toBe("completed");
    expect(j.steady_states.before?.probes.map((p) => p.ok)).toEqual([true, true, true, true]);
    expect(j.run.map((s) => `${s.type}:${s.name}:${s.status}`)).toEqual([
      "action:poke:succeeded",
      "wait:wait 100ms:succeeded",
      "probe:status-200:succeeded",
    ]);
    expect(j.rollbacks[0]?.status).toBe("succeeded");
  });

  it("refuses by name what it cannot run, before anything starts", () => {
    const l = parseExperiment(
      ctk({
        method: [
          {
            type: "action",
            name: "py",
            provider: { type: "python", module: "chaosk8s.pod.actions", func: "terminate_pods" },
          },
          { type: "action", name: "bg", background: true, provider: { type: "process", path: "true" } },
        ],
        controls: [{ name: "tracing" }],
      }),
      "exp.json",
    );
    const text = l.problems.map((p) => `${p.path}: ${p.message}`).join("\n");
    expect(l.experiment).toBeUndefined();
    expect(text).toMatch(
      /method\[0\]\.provider: python provider chaosk8s\.pod\.actions\.terminate_pods cannot run here/,
    );
    expect(text).toMatch(/background activities are not supported/);
    expect(text).toMatch(/controls are not supported/);
  });

  it("splits process arguments like a shell, without a shell", () => {
    expect(shellWords(`a 'b c' "d \\"e\\"" f\\ g ''`)).toEqual(["a", "b c", 'd "e"', "f g", ""]);
  });
});
