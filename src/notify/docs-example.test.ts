import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { notifyConfigSchema } from "./config.js";

describe("docs/notifications.md", () => {
  it("has a config example that validates", () => {
    const md = readFileSync(new URL("../../docs/notifications.md", import.meta.url), "utf8");
    const block = /```yaml\n([\s\S]*?)```/.exec(md)?.[1];
    expect(block).toBeDefined();
    const doc = parse(block as string) as { notify: unknown };
    const r = notifyConfigSchema.safeParse(doc.notify);
    expect(r.success ? [] : r.error.issues).toEqual([]);
  });
});
