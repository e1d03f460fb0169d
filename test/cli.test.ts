import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp, type App } from "../src/app.js";
import { runCli } from "../src/cli/index.js";
import { validateConfig } from "../src/config/index.js";
import { silentLogger } from "../src/core/index.js";
import { amPayload } from "./support/app.js";

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi
    .spyOn(process.stderr, "write")
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await runCli(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.env = saved;
  }
}

describe("novasre CLI", () => {
  let dir: string;
  let app: App;
  let url: string;
  let cfgPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "novasre-cli-"));
    cfgPath = join(dir, "novasre.yaml");
    await writeFile(cfgPath, `storage:\n  url: sqlite:${join(dir, "db.sqlite")}\nserver:\n  port: 0\n`);
    app = await createApp(
      validateConfig({ storage: { url: `sqlite:${join(dir, "db.sqlite")}` }, server: { port: 0 } }),
      { logger: silentLogger() },
    );
    url = await app.listen();
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("config check lists every problem with its path, exit 2, and no stack trace", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "server:\n  prot: 80\nincidents:\n  group_window: soon\n");
    const r = await run(["config", "check", bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('server.prot: unknown key "prot" (did you mean "port"?)');
    expect(r.err).toContain('incidents.group_window: invalid duration "soon"');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect((await run(["config", "check", join(dir, "missing.yaml")])).err).toMatch(/cannot read: ENOENT/);
    expect((await run(["config", "check", cfgPath])).out).toContain(": ok");
  });

  it("config schema prints a JSON Schema", async () => {
    const r = await run(["config", "schema"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { type: string }).type).toBe("object");
  });

  it("creates a token that the API accepts, and drives incidents through the API", async () => {
    const created = await run(["token", "create", "--role", "operator", "--name", "ci", "--config", cfgPath]);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(token).toMatch(/^nsre_/);
    expect(created.err).toContain("cannot be shown again");

    const res = await fetch(`${url}/api/v1/alerts/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(
        amPayload([{ labels: { alertname: "Boom", service: "cart", severity: "critical" } }]),
      ),
    });
    expect(res.status).toBe(200);
    const env = { NOVASRE_URL: url, NOVASRE_TOKEN: token };
    const list = await run(["incident", "list", "--status", "triggered"], env);
    expect(list.code).toBe(0);
    const id = /^(inc_\S+)/.exec(list.out)?.[1];
    expect(id).toBeDefined();
    expect(list.out).toContain("P1  triggered");

    expect((await run(["incident", "ack", id!], env)).out).toContain("acknowledged");
    expect((await run(["incident", "note", id!, "looking"], env)).code).toBe(0);
    expect((await run(["incident", "resolve", id!], env)).out).toContain("resolved");
    const back = await run(["incident", "ack", id!], env);
    expect(back.code).toBe(2);
    expect(back.err).toContain("INVALID_TRANSITION");
    const pmFile = join(dir, "pm.md");
    await run(["incident", "postmortem", id!, "--out", pmFile], env);
    expect(await readFile(pmFile, "utf8")).toContain("Note: looking");

    const noToken = await run(["incident", "list"], { NOVASRE_URL: url, NOVASRE_TOKEN: "" });
    expect(noToken.code).toBe(2);
    expect(noToken.err).toContain("novasre token create");
    const list2 = await run(["token", "list", "--config", cfgPath]);
    expect(list2.out).toMatch(/operator\s+ci/);
  });

  it("rejects unknown commands and bad options with usage help, exit 2", async () => {
    expect((await run(["frobnicate"])).code).toBe(2);
    expect((await run(["token", "create", "--role", "god"])).code).toBe(2);
  });
});

describe("graceful shutdown", () => {
  it("finishes a request in flight before closing", async () => {
    const app = await createApp(
      validateConfig({
        storage: { url: "sqlite::memory:" },
        server: { port: 0 },
        auth: { receivers: { require_auth: false } },
      }),
      {
        logger: silentLogger(),
      },
    );
    const url = await app.listen();
    const alerts = Array.from({ length: 500 }, (_, i) => ({
      labels: { alertname: "A", service: `s${i % 20}`, i: String(i) },
    }));
    // Truly in flight: headers and half the body are sent and the server is reading when close starts
    // (a request merely issued a few ms earlier may not have connected yet, and is then refused).
    const body = Buffer.from(JSON.stringify(amPayload(alerts)));
    const half = Math.floor(body.length / 2);
    const req = httpRequest(`${url}/api/v1/alerts/alertmanager`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": body.length },
    });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.once("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.once("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.once("error", reject);
    });
    req.write(body.subarray(0, half));
    await new Promise((r) => setTimeout(r, 100));
    const closing = app.close();
    req.end(body.subarray(half));
    const res = await response;
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { received: number }).received).toBe(500);
    await closing;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
