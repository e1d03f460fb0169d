import { describe, expect, it } from "vitest";
import { notifyConfigSchema } from "./config.js";

function issues(input: unknown) {
  const r = notifyConfigSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

const channels = [
  { name: "slack", type: "slack", url_env: "SLACK_URL" },
  { name: "pd", type: "pagerduty", routing_key_env: "PD_KEY" },
];

describe("notifyConfigSchema", () => {
  it("applies Alertmanager's defaults, in milliseconds", () => {
    const c = notifyConfigSchema.parse({ channels, receiver: "slack" });
    expect(c).toMatchObject({
      group_wait: 30_000,
      group_interval: 300_000,
      repeat_interval: 14_400_000,
      routes: [],
      inhibit_rules: [],
    });
    expect(c.outbox).toMatchObject({ poll_interval: 1000, lease: 60_000, backoff_max: 300_000 });
    expect(c.channels[0]?.timeout).toBe(10_000);
    expect(notifyConfigSchema.parse({})).toMatchObject({ channels: [], routes: [] });
  });

  it("points at the bad matcher with its path", () => {
    const errs = issues({
      channels,
      receiver: "slack",
      routes: [{ receiver: "pd" }, { matchers: ["a=b"] }, { matchers: ['service=~~"x"'] }],
    });
    expect(errs).toEqual(['routes.2.matchers.0: unknown operator "=~~"']);
  });

  it("checks receivers against declared channels, at any depth", () => {
    const errs = issues({
      channels,
      receiver: "slack",
      routes: [{ routes: [{ receiver: "pagerduty" }] }],
      inhibit_rules: [
        {
          source_matchers: ['incident_severity="P0"'],
          target_matchers: ['incident_severity="P2"'],
          equal: ["service"],
        },
      ],
    });
    expect(errs).toEqual([
      'routes.0.routes.0.receiver: unknown receiver "pagerduty" (declared channels: slack, pd)',
    ]);
    expect(issues({ channels })).toEqual(["receiver: the root route needs a receiver (a channel name)"]);
  });

  it("rejects inline-secret mistakes, typos, duplicate names and broken templates", () => {
    const errs = issues({
      receiver: "slack",
      channels: [
        { name: "slack", type: "slack" },
        { name: "slack", type: "opsgenie", api_key: "inline" },
        { name: "pd", type: "pagerduty", routing_key_env: "lower-case ok?" },
      ],
      templates: { slack: { text: "{{#firing}}unclosed" }, nosuch: { title: "x" } },
      group_wait: "soon",
    });
    expect(errs).toEqual(
      expect.arrayContaining([
        "channels.0.url: set exactly one of url, url_env",
        'channels.1: Unrecognized key: "api_key"',
        "channels.2.routing_key_env: must be an environment variable name",
        'group_wait: invalid duration "soon" (use e.g. "30s", "5m", "1h30m")',
      ]),
    );
    expect(errs.some((e) => e.startsWith("templates.slack.text: section {{#firing}}"))).toBe(true);
  });
});

describe("notifyConfigSchema as part of the config file", () => {
  it("nests with prefault({}) and converts to JSON Schema for editors", async () => {
    const { z } = await import("zod");
    const root = z.object({ notify: notifyConfigSchema.prefault({}) });
    expect(root.parse({}).notify.channels).toEqual([]);
    const js = JSON.stringify(z.toJSONSchema(root, { io: "input", unrepresentable: "any" }));
    expect(js).toContain("inhibit_rules");
    expect(js).toContain("resolve_transition");
  });
});
