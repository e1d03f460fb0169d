import { pidAlive } from "./actions.js";
import { revertPending } from "./ledger.js";
import { ChaosState, heartbeatAgeMs, heartbeatOwner } from "./state.js";

/** How often the watchdog looks; a stale heartbeat is acted on within stale + this. */
const WATCH_INTERVAL_MS = 250;

// Usage: watchdog-main STATE_DIR ENGINE_PID STALE_MS. Reverts the ledger when the engine stops beating.
const [dir, pidText, staleText] = process.argv.slice(2);
if (!dir || !pidText || !staleText) {
  process.stderr.write("usage: watchdog-main STATE_DIR ENGINE_PID STALE_MS\n");
  process.exit(2);
}
const state = new ChaosState(dir);
const enginePid = Number(pidText);
const staleMs = Number(staleText);

async function tick(): Promise<boolean> {
  const age = heartbeatAgeMs(state.heartbeatPath);
  if (age === undefined) return false; // clean end
  // Another engine's heartbeat: that engine has its own watchdog, and its faults are not ours to judge.
  if (heartbeatOwner(state.heartbeatPath) !== enginePid) return false;
  if (age <= staleMs && pidAlive(enginePid)) return true;
  await revertPending(
    state.ledger,
    `watchdog(engine ${enginePid} ${age > staleMs ? "silent" : "gone"})`,
    Date.now,
  );
  return false;
}

async function loop(): Promise<void> {
  for (;;) {
    if (!(await tick())) return;
    await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
  }
}
await loop();
