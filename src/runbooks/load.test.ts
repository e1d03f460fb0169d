import { describe, expect, it } from "vitest";
import { RunbookError, parseRunbook } from "./load.js";
import { runbookJsonSchema } from "./schema.js";

function problems(text: string) {
  try {
    parseRunbook(text, "rb.yaml");
  } catch (e) {
    if (e instanceof RunbookError) return e.problems;
    throw e;
  }
  return [];
}

describe("runbook validation", () => {
  it("lists every problem with its line and column", () => {
    const ps = problems(`name: Bad Name
risk: extreme
steps:
  - id: one
    kind: command
    argv: []
    tiemout: 5s
  - id: two
    kind: wait
    duration: soon
`);
    const byPath = Object.fromEntries(ps.map((p) => [p.path, `${p.line}:${p.column} ${p.message}`]));
    expect(byPath["name"]).toMatch(/^1:7 /);
    expect(byPath["risk"]).toMatch(/^2:7 expected one of/);
    expect(byPath["steps[0].argv"]).toMatch(/^6:11 /);
    expect(byPath["steps[0].tiemout"]).toMatch(/^7:5 unknown key "tiemout" \(did you mean "timeout"\?\)/);
    expect(byPath["steps[1].duration"]).toMatch(/^10:15 invalid duration/);
  });

  it("reports YAML syntax errors and bad expressions with positions", () => {
    expect(problems("name: x\nsteps: [\n")[0]).toMatchObject({ line: expect.any(Number) as number });
    const ps = problems(`name: x
steps:
  - id: a
    kind: command
    argv: [echo, "{{ params.x ++ }}"]
    when: "params.y =="
`);
    expect(ps.map((p) => `${p.path}@${p.line}`)).toEqual(["steps[0].argv[1]@5", "steps[0].when@6"]);
  });

  it("refuses templates spliced into shell code and checks goto targets", () => {
    const ps = problems(`name: x
steps:
  - id: a
    kind: command
    argv: [sh, -c, "systemctl restart {{ params.svc }}"]
  - id: b
    kind: decision
    branches: [{ if: "true", goto: nowhere }]
`);
    expect(ps.map((p) => p.path)).toEqual(["steps[0].argv[2]", "steps[1].branches[0].goto"]);
    expect(ps[0]?.message).toMatch(/environment variables/);
    expect(
      problems(`name: x
steps:
  - { id: a, kind: command, argv: [sh, -c, 'systemctl restart "$SVC"'], env: { SVC: "{{ params.svc }}" } }
`),
    ).toEqual([]);
  });

  it("requires an approval before the first changing step of a high-risk runbook", () => {
    const ps = problems(`name: x
risk: high
steps:
  - { id: look, kind: wait, duration: 1s }
  - { id: act, kind: command, argv: ["true"] }
  - { id: ok, kind: approval }
`);
    expect(ps.map((p) => `${p.path}@${p.line}: ${p.message}`)).toEqual([
      "steps[1]@5: a high-risk runbook needs an approval step before its first command step",
    ]);
  });

  it("generates a JSON Schema from the zod schema", () => {
    const s = runbookJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(s.properties)).toEqual(
      expect.arrayContaining(["name", "params", "steps", "triggers"]),
    );
    expect(s.required).toEqual(expect.arrayContaining(["name", "steps"]));
  });
});

describe("trigger matchers", () => {
  it("accept objects and the Alertmanager text form, and check regexes", () => {
    const rb = parseRunbook(`name: x
triggers:
  - matchers: ['alertname=~"Disk.*|Inode\\"s"', { label: service, op: "!=", value: "" }, env=prod]
steps: [{ id: a, kind: wait, duration: 1s }]
`);
    expect(rb.triggers[0]?.matchers.map(({ name, op, value }) => ({ name, op, value }))).toEqual([
      { name: "alertname", op: "=~", value: 'Disk.*|Inode"s' },
      { name: "service", op: "!=", value: "" },
      { name: "env", op: "=", value: "prod" },
    ]);
    // Anchored, as in Alertmanager: the whole value must match.
    expect(rb.triggers[0]?.matchers[0]?.re?.test("Diskfull")).toBe(true);
    expect(rb.triggers[0]?.matchers[0]?.re?.test("xDisk")).toBe(false);
    const ps = problems(`name: x
triggers:
  - matchers: ["alertname ~ Disk", 'a=~"("']
steps: [{ id: a, kind: wait, duration: 1s }]
`);
    expect(ps.map((p) => `${p.path}@${p.line}`)).toEqual([
      "triggers[0].matchers[0]@3",
      "triggers[0].matchers[1]@3",
    ]);
  });
});
