import { describe, expect, it } from "vitest";
import { htmlEscape, parseTemplate, renderTemplate, slackEscape } from "./template.js";

function render(src: string, data: unknown, esc = htmlEscape) {
  const t = parseTemplate(src);
  if (t.status !== "ok") throw new Error(t.error);
  return renderTemplate(t.value, data, esc);
}

describe("template engine", () => {
  it("renders paths, escapes unless raw, and leaves unknown variables empty", () => {
    const data = { incident: { title: "<b>x</b> & y", sev: "P1" } };
    expect(render("{{incident.sev}} {{incident.title}}", data)).toBe("P1 &lt;b&gt;x&lt;/b&gt; &amp; y");
    expect(render("{{{incident.title}}}|{{& incident.title}}", data)).toBe("<b>x</b> & y|<b>x</b> & y");
    expect(render("[{{nope}}][{{incident.nope.deeper}}]", data)).toBe("[][]");
    expect(render("{{! a comment }}ok", data)).toBe("ok");
  });

  it("iterates lists, looks up outer context, and handles truthy and inverted sections", () => {
    const data = {
      team: "db",
      alerts: [{ name: "a" }, { name: "b", team: "web" }],
      none: [],
      flag: true,
      zero: 0,
    };
    expect(render("{{#alerts}}{{name}}@{{team}};{{/alerts}}", data)).toBe("a@db;b@web;");
    expect(render("{{#none}}x{{/none}}{{^none}}empty{{/none}}", data)).toBe("empty");
    expect(render("{{#flag}}yes{{/flag}}{{^zero}} zero{{/zero}}", data)).toBe("yes zero");
    expect(render("{{#alerts}}{{.}}{{/alerts}}", { alerts: ["x", "y"] })).toBe("xy");
  });

  it("never evaluates code in data or templates", () => {
    expect(render("{{constructor}}{{__proto__}}{{toString}}", {})).toBe("");
    expect(render("{{x}}", { x: "{{y}}", y: "leak" })).toBe("{{y}}");
  });

  it("reports malformed templates", () => {
    expect(parseTemplate("{{#a}}x")).toMatchObject({
      status: "error",
      error: "section {{#a}} opened at offset 0 is never closed",
    });
    expect(parseTemplate("{{#a}}x{{/b}}")).toMatchObject({ status: "error" });
    expect(parseTemplate("{{/a}}")).toMatchObject({ status: "error" });
    expect(parseTemplate("{{a")).toMatchObject({ status: "error" });
    expect(parseTemplate("{{a b}}")).toMatchObject({ status: "error" });
  });

  it("escapes for Slack mrkdwn only what Slack treats as markup", () => {
    expect(render("{{s}}", { s: `<@U1> "q" & 'x'` }, slackEscape)).toBe(`&lt;@U1&gt; "q" &amp; 'x'`);
  });
});
