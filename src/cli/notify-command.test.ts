import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { fail, ok } from "../core/index.js";
import { notifyConfigSchema } from "../notify/index.js";
import { registerNotifyCommand } from "./notify-command.js";

const config = notifyConfigSchema.parse({
  receiver: "ops-slack",
  channels: [
    { name: "ops-slack", type: "slack", url_env: "SLACK_URL" },
    { name: "pd", type: "pagerduty", routing_key_env: "PD_ROUTING_KEY" },
  ],
  templates: { "ops-slack": { text: "Incident {{incident.key}}: {{#firing}}[{{summary}}]{{/firing}}" } },
});

async function run(args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const seen: string[] = [];
  const program = new Command().exitOverride();
  registerNotifyCommand(program, {
    defaultConfigPath: "novasre.yaml",
    loadConfig: (p) => {
      seen.push(p);
      return Promise.resolve(
        p === "missing.yaml" ? fail("config file missing.yaml not found", false) : ok({ notify: config }),
      );
    },
    stdout: (s) => stdout.push(s),
    stderr: (s) => stderr.push(s),
  });
  const before = process.exitCode;
  await program.parseAsync(["node", "novasre", ...args]);
  const code = process.exitCode;
  process.exitCode = before;
  return { out: stdout.join(""), err: stderr.join(""), code, seen };
}

describe("novasre notify preview", () => {
  it("renders the channel's configured template and the exact payload without secrets", async () => {
    const r = await run(["notify", "preview", "--channel", "ops-slack", "--json"]);
    expect(r.seen).toEqual(["novasre.yaml"]);
    const parsed = JSON.parse(r.out) as { title: string; text: string; payload: { blocks: unknown[] } };
    expect(parsed.text).toBe(
      "Incident novasre-inc-01jgexample: [checkout p99 latency 2.4s (threshold 2s)][payments 5xx ratio 4.1% (threshold 2%)]",
    );
    expect(parsed.payload.blocks.length).toBeGreaterThan(1);

    const pd = await run([
      "notify",
      "preview",
      "--channel",
      "pd",
      "--kind",
      "resolve",
      "--config",
      "other.yaml",
    ]);
    expect(pd.seen).toEqual(["other.yaml"]);
    expect(pd.out).toContain('"event_action": "resolve"');
    expect(pd.out).toContain('"routing_key": "<from $PD_ROUTING_KEY>"');
  });

  it("fails clearly on an unknown channel or a config that does not load", async () => {
    const r = await run(["notify", "preview", "--channel", "nope"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('unknown channel "nope" (declared: ops-slack, pd)');
    const m = await run(["notify", "preview", "--channel", "pd", "--config", "missing.yaml"]);
    expect(m.err).toContain("not found");
  });
});
