import { describe, expect, it } from "vitest";
import { z } from "zod";
import { matcherSchema, matchesAll, matcherToString, parseMatcher } from "./index.js";

function parsed(s: string) {
  const r = parseMatcher(s);
  if (r.status !== "ok") throw new Error(r.error);
  return r.value;
}

describe("parseMatcher", () => {
  it("parses the four operators, quoted and unquoted", () => {
    expect(parsed('service="checkout"')).toMatchObject({ name: "service", op: "=", value: "checkout" });
    expect(parsed("service=checkout")).toMatchObject({ name: "service", op: "=", value: "checkout" });
    expect(parsed("env != prod")).toMatchObject({ name: "env", op: "!=", value: "prod" });
    expect(parsed('team=~"db|infra"')).toMatchObject({ op: "=~", value: "db|infra" });
    expect(parsed('team!~"web.*"')).toMatchObject({ op: "!~", value: "web.*" });
    expect(parsed('msg="say \\"hi\\""').value).toBe('say "hi"');
    expect(parsed('empty=""').value).toBe("");
  });

  it("reports unknown operators and malformed input", () => {
    expect(parseMatcher('a=~~"x"')).toMatchObject({ status: "error", error: 'unknown operator "=~~"' });
    expect(parseMatcher("a==b")).toMatchObject({ status: "error", error: 'unknown operator "=="' });
    expect(parseMatcher("a")).toMatchObject({ status: "error" });
    expect(parseMatcher('="x"')).toMatchObject({ status: "error" });
    expect(parseMatcher('a="x')).toMatchObject({ status: "error" });
    expect(parseMatcher('a="x" junk')).toMatchObject({ status: "error" });
    const badRe = parseMatcher('a=~"(unclosed"');
    expect(badRe.status).toBe("error");
    if (badRe.status === "error") expect(badRe.error).toMatch(/^invalid regular expression/);
  });

  it("round-trips through matcherToString", () => {
    for (const s of ['a="x y"', 'b!~"c.*"', 'q="with \\"quote\\""']) {
      const m = parsed(s);
      expect(parsed(matcherToString(m))).toMatchObject({ name: m.name, op: m.op, value: m.value });
    }
  });
});

describe("matchesAll", () => {
  it("anchors regexes fully and treats missing labels as empty", () => {
    const labels = { service: "checkout-api", env: "prod" };
    expect(matchesAll([parsed('service=~"checkout"')], labels)).toBe(false);
    expect(matchesAll([parsed('service=~"checkout.*"')], labels)).toBe(true);
    expect(matchesAll([parsed('service!~"check"')], labels)).toBe(true);
    expect(matchesAll([parsed('team=""')], labels)).toBe(true);
    expect(matchesAll([parsed('team!=""')], labels)).toBe(false);
    expect(matchesAll([parsed("env=prod"), parsed("service=checkout-api")], labels)).toBe(true);
    expect(matchesAll([parsed("env=prod"), parsed("service=web")], labels)).toBe(false);
    expect(matchesAll([], labels)).toBe(true);
  });
});

describe("matcherSchema", () => {
  it("puts the parse error on the path of the bad matcher", () => {
    const schema = z.object({ matchers: z.array(matcherSchema) });
    const r = schema.safeParse({ matchers: ["a=b", 'c=~~"d"'] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ["matchers", 1], message: 'unknown operator "=~~"' });
  });
});
