import { describe, expect, it } from "vitest";
import { ExprError, evalCondition, evalExpression, renderString } from "./expr.js";

const scope = {
  params: { replicas: 3, service: "api", flag: true },
  incident: { labels: { severity: "critical", team: "core" } },
  steps: { probe: { stdout: "degraded", exit_code: 0, json: { items: [1, 2] } } },
};

describe("expressions", () => {
  it("compares, combines and matches", () => {
    expect(evalCondition("params.replicas >= 3 && incident.labels.severity == 'critical'", scope)).toBe(true);
    expect(evalCondition("steps.probe.stdout =~ 'degr.*'", scope)).toBe(true);
    expect(evalCondition("steps.probe.stdout !~ 'degr'", scope)).toBe(true);
    expect(evalCondition("!(params.flag) || params.service in ['api', 'web']", scope)).toBe(true);
    expect(evalExpression("params.replicas + 1", scope)).toBe(4);
    expect(evalExpression("len(steps.probe.json.items)", scope)).toBe(2);
    expect(evalExpression("default(incident.labels.missing, 'none')", scope)).toBe("none");
    expect(evalExpression("'10' == 10", scope)).toBe(true);
  });

  it("never reaches prototypes or unknown roots", () => {
    expect(evalExpression("params.constructor", scope)).toBeUndefined();
    expect(evalExpression("params.__proto__", scope)).toBeUndefined();
    expect(() => evalExpression("process.env", scope)).toThrow(/unknown name/);
    expect(() => evalExpression("eval('1')", scope)).toThrow(ExprError);
  });

  it("reports syntax errors", () => {
    expect(() => evalExpression("params.replicas >", scope)).toThrow(/unexpected end/);
    expect(() => evalExpression("'open", scope)).toThrow(/unterminated/);
    expect(() => evalExpression("a ; b", scope)).toThrow(/unexpected character/);
    expect(() => evalExpression("(".repeat(100) + "1" + ")".repeat(100), scope)).toThrow(/nests too deeply/);
  });

  it("renders templates, keeping text around placeholders", () => {
    expect(renderString("svc={{ params.service }} n={{params.replicas}}", scope)).toBe("svc=api n=3");
    expect(renderString("no placeholders", scope)).toBe("no placeholders");
  });
});
