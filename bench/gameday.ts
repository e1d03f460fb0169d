// The game-day figure: the built CLI runs `novasre gameday` (platform + demo shop + load) on a scenario
// file (default the built-in one) after a fault-free period, and this prints the report's summary.
// Flags: --scenarios FILE, --quiet-minutes N (default 10), --rate N.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { finish, flag, progress, repoRoot } from "./lib.js";

const scenarios = resolve(flag("scenarios", join(repoRoot, "scenarios", "builtin.yaml")));
const quiet = flag("quiet-minutes", "10");
const rate = flag("rate", "20");
// One result per scenario file: the built-in one is "gameday", another "gameday-<file name>".
const builtin = scenarios === join(repoRoot, "scenarios", "builtin.yaml");
const name = builtin ? "gameday" : `gameday-${basename(scenarios).replace(/\.ya?ml$/i, "")}`;
const report = join(repoRoot, "bench", "results", `${name}-report.json`);

progress(`game day: ${scenarios}, ${quiet} fault-free minutes first`);
const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "bin", "novasre.js"),
      "gameday",
      "--scenarios",
      scenarios,
      "--report",
      report,
      "--quiet-minutes",
      quiet,
      "--rate",
      rate,
      "--port",
      "0",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  process.once("SIGINT", () => child.kill("SIGINT"));
  child.on("exit", (c) => resolve(c ?? 1));
});
if (code !== 0) {
  progress(`novasre gameday exited with ${code}`);
  process.exit(code);
}
const r = JSON.parse(readFileSync(report, "utf8")) as {
  summary: Record<string, unknown>;
  scenarios: unknown[];
};
finish(name, { scenarios_file: scenarios, quiet_minutes: Number(quiet), ...r.summary });
