import type { Faults, RawServiceConfig, ShopControl, ShopService } from "../demo/index.js";
import type { Scenario } from "./scenario.js";

export interface InjectedFault {
  /** One line for the progress view and the report. */
  description: string;
  /**
   * Whether the fault's cause is gone (the process is back, its faults are off, the config is the good
   * one, the disk has room, the upstreams are true): the ground truth a recovery is judged by, not the
   * platform's own view.
   */
  cleared(): Promise<boolean>;
  /** Puts the shop back as it was, whatever the platform did meanwhile; safe to call twice. */
  revert(): Promise<void>;
}

/** A config that is valid but breaks the service: its calls time out (payments: every charge does). */
function breakingConfig(service: ShopService): RawServiceConfig {
  return service === "payments" ? { timeout_ms: 1 } : { upstream_timeout_ms: 1 };
}

/** GET a JSON admin route of an instance; undefined when it does not answer. */
async function adminGet(url: string | undefined, path: string): Promise<unknown> {
  if (!url) return undefined;
  try {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}
/** How long a bad config push waits to see the service ready before it leaves it as it is (ms). */
export const BAD_CONFIG_READY_WAIT_MS = 3_000;
/** How long a ground-truth check waits for an instance's admin route (ms). */
export const ADMIN_TIMEOUT_MS = 2_000;

async function allReady(shop: ShopControl, service: ShopService): Promise<boolean> {
  const h = await shop.health(service);
  return h.length > 0 && h.every((i) => i.state === "running" && !i.paused && i.healthy && i.ready);
}

const ZERO_FAULTS: Faults = { extra_latency_ms: 0, error_rate: 0, cpu_hog: 0, leak_mb_per_s: 0 };

/** Applies a scenario's fault to the shop; the returned revert undoes it. */
export async function injectFault(shop: ShopControl, s: Scenario): Promise<InjectedFault> {
  const p = s.params;
  const t = s.target;
  const pids = () => shop.instances(t).map((i) => i.pid);
  switch (s.fault) {
    case "process-kill": {
      const signal = (p["signal"] as NodeJS.Signals | undefined) ?? "SIGKILL";
      const n = shop.kill(t, signal);
      return {
        description: `${signal} to ${n} instance(s) of ${t}`,
        cleared: () => allReady(shop, t),
        revert: async () => {
          if (shop.instances(t).some((i) => i.state === "crashed" || i.state === "stopped"))
            await shop.restart(t);
        },
      };
    }
    case "process-pause": {
      const before = pids();
      const n = shop.pause(t);
      return {
        description: `SIGSTOP to ${n} instance(s) of ${t}`,
        cleared: () => allReady(shop, t),
        revert: () => {
          // SIGCONT only to the processes paused here: a restarted one runs already.
          if (pids().some((pid) => before.includes(pid))) shop.resume(t);
          return Promise.resolve();
        },
      };
    }
    case "latency":
    case "http-errors":
    case "cpu-hog":
    case "memory-leak": {
      const faults: Faults =
        s.fault === "latency"
          ? { extra_latency_ms: p["ms"] as number }
          : s.fault === "http-errors"
            ? { error_rate: p["rate"] as number }
            : s.fault === "cpu-hog"
              ? { cpu_hog: p["share"] as number }
              : { leak_mb_per_s: p["mb_per_s"] as number };
      await shop.setFaults(t, faults);
      return {
        description: `${t} faults ${JSON.stringify(faults)}`,
        cleared: async () => {
          if (!(await allReady(shop, t))) return false;
          for (const i of shop.instances(t)) {
            const f = (
              (await adminGet(i.url, "/admin/faults")) as { faults?: Record<string, number> } | undefined
            )?.faults;
            if (!f || Object.keys(faults).some((k) => (f[k] ?? 0) !== 0)) return false;
          }
          return true;
        },
        revert: async () => {
          await shop.setFaults(t, ZERO_FAULTS);
        },
      };
    }
    case "disk-fill": {
      const path = await shop.fillDisk(p["mb"] as number);
      return {
        description: `${String(p["mb"])} MB written to ${path}`,
        cleared: () => allReady(shop, "store"),
        revert: async () => {
          await shop.purgeLogs();
        },
      };
    }
    case "bad-config": {
      const good = shop.config(t);
      const bad = { ...good, ...((p["config"] as RawServiceConfig | undefined) ?? breakingConfig(t)) };
      // A push that sticks: the supervisor does not wait long for readiness, nor roll back.
      const outcome = await shop.applyConfig(t, bad, {
        rollback: false,
        readyTimeoutMs: BAD_CONFIG_READY_WAIT_MS,
      });
      return {
        description: `config ${JSON.stringify(p["config"] ?? breakingConfig(t))} pushed to ${t} (${outcome.outcome})`,
        cleared: async () =>
          JSON.stringify(shop.config(t)) === JSON.stringify(good) && (await allReady(shop, t)),
        revert: async () => {
          if (JSON.stringify(shop.config(t)) !== JSON.stringify(good)) await shop.rollbackConfig(t);
        },
      };
    }
    case "partition": {
      const peer = p["peer"] as ShopService;
      await shop.partition(t, peer);
      return {
        description: `calls from ${t} to ${peer} cut`,
        cleared: async () => {
          const real = new Set(shop.instances(peer).map((i) => i.url));
          for (const i of shop.instances(t)) {
            const up = (
              (await adminGet(i.url, "/admin/upstreams")) as
                { upstreams?: Record<string, string[]> } | undefined
            )?.upstreams?.[peer];
            if (!up || up.length === 0 || up.some((u) => !real.has(u))) return false;
          }
          return allReady(shop, t);
        },
        revert: async () => {
          await shop.healPartition(t, peer);
        },
      };
    }
    case "clock-skew": {
      await shop.skewClock(t, p["seconds"] as number);
      const skewed = pids();
      return {
        description: `${t} restarted with its clock ${String(p["seconds"])} s off`,
        cleared: async () =>
          shop.instances(t).every((i) => !i.env?.["FAKETIME"]) && (await allReady(shop, t)),
        revert: async () => {
          if (pids().some((pid) => skewed.includes(pid))) await shop.restart(t);
        },
      };
    }
  }
}
