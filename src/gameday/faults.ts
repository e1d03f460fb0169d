import type {
  ConfigChangeOutcome,
  Faults,
  InstanceHealth,
  InstanceInfo,
  RawServiceConfig,
  ReadyOutcome,
  ShopService,
} from "../demo/index.js";
import type { Scenario } from "./scenario.js";

/** What a game day needs of the demo shop's supervisor (src/demo/shop.ts implements it). */
export interface GameDayShop {
  kill(target: string, signal?: NodeJS.Signals): number;
  pause(target: string): number;
  resume(target: string): number;
  setFaults(target: string, faults: Faults): Promise<string[]>;
  fillDisk(mb: number): Promise<string>;
  purgeLogs(): Promise<{ removed: number; bytes: number }>;
  config(service: ShopService): RawServiceConfig;
  applyConfig(
    service: ShopService,
    config: RawServiceConfig,
    opts?: { rollback?: boolean; readyTimeoutMs?: number },
  ): Promise<ConfigChangeOutcome>;
  rollbackConfig(service: ShopService): Promise<ConfigChangeOutcome>;
  partition(a: string, b: string): Promise<void>;
  healPartition(a: string, b: string): Promise<void>;
  skewClock(target: string, offsetSeconds: number): Promise<ReadyOutcome>;
  restart(target: string): Promise<ReadyOutcome>;
  instances(service?: ShopService): InstanceInfo[];
  health(service?: ShopService): Promise<InstanceHealth[]>;
}

export interface InjectedFault {
  /** One line for the progress view and the report. */
  description: string;
  /** Puts the shop back as it was, whatever the platform did meanwhile; safe to call twice. */
  revert(): Promise<void>;
}

/** A config that is valid but breaks the service: its calls time out (payments: every charge does). */
function breakingConfig(service: ShopService): RawServiceConfig {
  return service === "payments" ? { timeout_ms: 1 } : { upstream_timeout_ms: 1 };
}

const ZERO_FAULTS: Faults = { extra_latency_ms: 0, error_rate: 0, cpu_hog: 0, leak_mb_per_s: 0 };

/** Applies a scenario's fault to the shop; the returned revert undoes it. */
export async function injectFault(shop: GameDayShop, s: Scenario): Promise<InjectedFault> {
  const p = s.params;
  const t = s.target;
  const pids = () => shop.instances(t).map((i) => i.pid);
  switch (s.fault) {
    case "process-kill": {
      const n = shop.kill(t, (p["signal"] as NodeJS.Signals | undefined) ?? "SIGKILL");
      return {
        description: `${String(p["signal"] ?? "SIGKILL")} to ${n} instance(s) of ${t}`,
        revert: async () => {
          if (shop.instances(t).some((i) => i.state === "crashed" || i.state === "stopped")) await shop.restart(t);
        },
      };
    }
    case "process-pause": {
      const before = pids();
      const n = shop.pause(t);
      return {
        description: `SIGSTOP to ${n} instance(s) of ${t}`,
        revert: async () => {
          // SIGCONT only to the processes paused here: a restarted one runs already.
          if (pids().some((pid) => before.includes(pid))) shop.resume(t);
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
        revert: async () => {
          await shop.setFaults(t, ZERO_FAULTS);
        },
      };
    }
    case "disk-fill": {
      const path = await shop.fillDisk(p["mb"] as number);
      return {
        description: `${String(p["mb"])} MB written to ${path}`,
        revert: async () => {
          await shop.purgeLogs();
        },
      };
    }
    case "bad-config": {
      const good = shop.config(t);
      const bad = { ...good, ...((p["config"] as RawServiceConfig | undefined) ?? breakingConfig(t)) };
      const outcome = await shop.applyConfig(t, bad, { rollback: false });
      return {
        description: `config ${JSON.stringify(p["config"] ?? breakingConfig(t))} pushed to ${t} (${outcome.outcome})`,
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
        revert: async () => {
          if (pids().some((pid) => skewed.includes(pid))) await shop.restart(t);
        },
      };
    }
  }
}
