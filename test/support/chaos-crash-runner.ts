// Runs an experiment that pauses PID and then waits a minute; the test SIGKILLs this process mid-run.
// Usage: chaos-crash-runner STATE_DIR PID WATCHDOG(0|1) STALE_MS
import { ChaosEngine, ChaosState, experimentSchema } from "../../src/chaos/index.js";

const [dir, pid, watchdog, stale] = process.argv.slice(2);
const engine = new ChaosEngine({
  state: new ChaosState(dir as string),
  level: "dev",
  watchdog: watchdog === "1",
  heartbeatIntervalMs: 100,
  heartbeatStaleMs: Number(stale),
  out: (l) => process.stdout.write(`${l}\n`),
});
await engine.run(
  experimentSchema.parse({
    title: "crash me",
    method: [
      { fault: { name: "freeze", type: "process-pause", target: { pid: Number(pid) } } },
      { fault: { name: "fill", type: "disk-fill", path: dir, mb: 1 } },
      { wait: "60s" },
    ],
  }),
);
