import { readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChaosEngine } from "./engine.js";
import { gameDayMarkdown, runGameDay } from "./gameday.js";
import { ChaosState } from "./state.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "novasre-gameday-"));
  await writeFile(
    join(dir, "fill.yaml"),
    `title: disk fills\nmethod:\n  - fault: { name: fill, type: disk-fill, path: ., mb: 1, duration: 200ms }\n  - probe: { name: check, process: { argv: ["true"] } }\n`,
  );
  await writeFile(
    join(dir, "broken.yaml"),
    `title: never healthy\nsteady_state:\n  probes:\n    - { name: nope, process: { argv: ["false"] } }\nmethod:\n  - wait: 1ms\n`,
  );
  await writeFile(join(dir, "last.yaml"), `title: not reached\nmethod:\n  - wait: 1ms\n`);
  await writeFile(join(dir, "gd.yaml"), `title: drill\nexperiments: [fill.yaml, broken.yaml, last.yaml]\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("game day", () => {
  it("runs experiments in order, stops at the first failure, and reports what happened", async () => {
    const engine = new ChaosEngine({
      state: new ChaosState(join(dir, "state")),
      level: "dev",
      watchdog: false,
    });
    const report = await runGameDay(engine, join(dir, "gd.yaml"));
    expect(report.results.map((r) => r.journal?.status)).toEqual(["completed", "refused"]);
    const fill = report.results[0]?.journal;
    expect(fill?.run.map((s) => `${s.type}:${s.name}`)).toEqual(["fault:fill", "revert:fill", "probe:check"]);
    expect(readdirSync(dir).filter((f) => f.startsWith("novasre-fill-"))).toEqual([]);
    const md = gameDayMarkdown(report);
    expect(md).toMatch(/^# Game day: drill/);
    expect(md).toMatch(/\| 1 \| disk fills \| completed \| fill \|/);
    expect(md).toMatch(/\| 2 \| never healthy \| refused \|/);
    expect(md).toMatch(/## Debrief \(draft\)/);
    expect(md).not.toMatch(/not reached/);
  });
});
