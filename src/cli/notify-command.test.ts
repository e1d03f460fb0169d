import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { fail, isNovaError, ok } from "../core/index.js";
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

async function run(args: string[], style: "result" | "throw" = "result") {
  const stdout: string[] = [];
  const seen: (string | undefined)[] = [];
  const program = new Command().exitOverride();
  registerNotifyCommand(program, {
    loadConfig: (p) => {
      seen.push(p);
      if (style === "throw") {
        if (p === "missing.yaml") return Promise.reject(new Error("missing.yaml: cannot read: ENOENT"));
        return Promise.resolve({ notify: config });
      }
      return Promise.resolve(
        p === "missing.yaml" ? fail("config file missing.yaml not found", false) : ok({ notify: config }),
      );
    },
    stdout: (s) => stdout.push(s),
  });
  await program.parseAsync(["node", "novasre", ...args]);
  return { out: stdout.join(""), seen };
}

describe("novasre notify preview", () => {
  it("renders the channel's configured template and the exact payload without secrets", async () => {
    const r = await run(["notify", "preview", "--channel", "ops-slack", "--json"]);
    expect(r.seen).toEqual([undefined]);
    const parsed = JSON.parse(r.out) as { title: string; text: string; payload: { blocks: unknown[] } };
    expect(parsed.text).toBe(
      "Incident novasre-inc-01jgexample: [checkout p99 latency 2.4s (threshold 2s)][payments 5xx ratio 4.1% (threshold 2%)]",
    );
    expect(parsed.payload.blocks.length).toBeGreaterThan(1);

    const pd = await run(
      ["notify", "preview", "--channel", "pd", "--kind", "resolve", "--config", "other.yaml"],
      "throw",
    );
    expect(pd.seen).toEqual(["other.yaml"]);
    expect(pd.out).toContain('"event_action": "resolve"');
    expect(pd.out).toContain('"routing_key": "<from $PD_ROUTING_KEY>"');
  });

  it("throws NovaErrors for an unknown channel or kind and passes config errors through", async () => {
    const unknown = await run(["notify", "preview", "--channel", "nope"]).catch((e: unknown) => e);
    expect(isNovaError(unknown) && unknown.code).toBe("NOT_FOUND");
    expect((unknown as Error).message).toContain('unknown channel "nope" (declared: ops-slack, pd)');
    const kind = await run(["notify", "preview", "--channel", "pd", "--kind", "page"]).catch(
      (e: unknown) => e,
    );
    expect(isNovaError(kind) && kind.code).toBe("VALIDATION_FAILED");
    const missing = await run(["notify", "preview", "--channel", "pd", "-c", "missing.yaml"]).catch(
      (e: unknown) => e,
    );
    expect((missing as Error).message).toContain("not found");
    const thrown = await run(["notify", "preview", "--channel", "pd", "-c", "missing.yaml"], "throw").catch(
      (e: unknown) => e,
    );
    expect((thrown as Error).message).toContain("ENOENT");
  });
});
