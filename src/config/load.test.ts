import { describe, expect, it } from "vitest";
import { ConfigError, applyEnv, configJsonSchema, parseYaml, validateConfig } from "./index.js";

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.details.map((d) => `${d.path}: ${d.message}`);
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("fills every default from an empty file", () => {
    const c = validateConfig({});
    expect(c.server.port).toBe(8480);
    expect(c.storage.url).toBe("sqlite:data/novasre.db");
    expect(c.incidents.group_window).toBe(300_000);
  });

  it("lists every problem with its path and a hint", () => {
    const found = problems(() =>
      validateConfig({
        server: { prot: 1, port: "x" },
        storage: { url: "mysql://x" },
        incidents: { group_window: "5 min", severity: { default: "P7" } },
      }),
    );
    expect(found).toContain('server.prot: unknown key "prot" (did you mean "port"?)');
    expect(found.some((p) => p.startsWith("server.port: "))).toBe(true);
    expect(found).toContain('storage.url: must start with "sqlite:" or "postgres://"');
    expect(found).toContain(
      'incidents.group_window: invalid duration "5 min" (use e.g. "30s", "5m", "1h30m")',
    );
    expect(found).toContain('incidents.severity.default: expected one of "P0", "P1", "P2", "P3"');
    expect(found).toHaveLength(5);
  });

  it("reports YAML syntax errors with line and column", () => {
    const found = problems(() => parseYaml("server:\n  port: 1\n bad: [", "f.yaml"));
    expect(found[0]).toMatch(/^line \d+, column \d+: /);
  });

  it("applies NOVASRE_ environment overrides with types", () => {
    const raw = applyEnv(
      { server: { host: "0.0.0.0" } },
      {
        NOVASRE_SERVER__PORT: "9001",
        NOVASRE_INCIDENTS__AUTO_RESOLVE: "false",
        NOVASRE_TOKEN: "not config",
        OTHER: "1",
      },
    );
    const c = validateConfig(raw);
    expect(c.server.port).toBe(9001);
    expect(c.server.host).toBe("0.0.0.0");
    expect(c.incidents.auto_resolve).toBe(false);
  });

  it("exports a JSON Schema for editors", () => {
    const s = configJsonSchema();
    expect(s["type"]).toBe("object");
    expect(Object.keys(s["properties"] as object)).toEqual(
      expect.arrayContaining(["server", "storage", "incidents"]),
    );
  });
});
