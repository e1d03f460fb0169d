import { spawn, type ChildProcess } from "node:child_process";
import { fail, ok, type Result } from "../core/index.js";
import type { ActionOutput, ActionProvider, ActionRequest } from "./action-provider.js";

/** Most replicas the local provider runs of one process (it shares the machine with us). */
export const LOCAL_MAX_REPLICAS = 16;
/** How long stop waits after SIGTERM before SIGKILL (ms). */
export const LOCAL_STOP_GRACE_MS = 5_000;

export interface LocalProcessSpec {
  name: string;
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  replicas?: number;
}

interface Running {
  spec: LocalProcessSpec;
  children: ChildProcess[];
  desired: number;
}

/**
 * Supervises local processes declared up front (the demo shop, test fixtures). Only declared names can
 * be acted on, and their argv comes from the declaration, never from the request.
 */
export class LocalProcessProvider implements ActionProvider {
  readonly name = "local";
  private readonly units = new Map<string, Running>();

  constructor(specs: readonly LocalProcessSpec[]) {
    for (const s of specs) this.units.set(s.name, { spec: s, children: [], desired: 0 });
  }

  async run(req: ActionRequest): Promise<Result<ActionOutput>> {
    const u = this.units.get(req.target);
    if (!u) return fail(`local provider: no process named ${JSON.stringify(req.target)}`, false);
    switch (req.verb) {
      case "status":
        return ok(this.status(u));
      case "start":
        return ok(this.scaleTo(u, Math.max(1, u.desired || (u.spec.replicas ?? 1))));
      case "stop":
        await this.stopAll(u);
        return ok(this.status(u, "stopped"));
      case "restart": {
        const n = Math.max(1, u.desired || (u.spec.replicas ?? 1));
        await this.stopAll(u);
        return ok(this.scaleTo(u, n, "restarted"));
      }
      case "scale": {
        const n = Number(req.args["replicas"]);
        if (!Number.isInteger(n) || n < 0 || n > LOCAL_MAX_REPLICAS)
          return fail(`local provider: replicas must be an integer 0-${LOCAL_MAX_REPLICAS}`, false);
        while (u.children.length > n) await stopChild(u.children.pop() as ChildProcess);
        return ok(this.scaleTo(u, n, `scaled to ${n}`));
      }
      case "rollback":
      case "cleanup":
        // A declared argv has no release history and no logs of its own to clear.
        return fail(
          `local provider: verb ${req.verb} is not supported (it has no config or logs to act on)`,
          false,
        );
    }
  }

  private scaleTo(u: Running, n: number, what = "started"): ActionOutput {
    u.desired = n;
    u.children = u.children.filter((c) => c.exitCode === null && c.signalCode === null);
    while (u.children.length < n) {
      const [cmd, ...args] = u.spec.argv;
      const child = spawn(cmd as string, args, {
        cwd: u.spec.cwd,
        env: { ...process.env, ...(u.spec.env ?? {}) },
        stdio: "ignore",
      });
      child.on("error", () => undefined);
      u.children.push(child);
    }
    return this.status(u, what);
  }

  private async stopAll(u: Running): Promise<void> {
    const cs = u.children.splice(0);
    u.desired = 0;
    await Promise.all(cs.map(stopChild));
  }

  private status(u: Running, what = "status"): ActionOutput {
    const alive = u.children.filter((c) => c.exitCode === null && c.signalCode === null);
    return {
      message: `${u.spec.name}: ${what}; ${alive.length} running`,
      data: { running: alive.length, pids: alive.map((c) => c.pid) },
    };
  }

  /** Stops everything it started (server shutdown, tests). */
  async close(): Promise<void> {
    await Promise.all([...this.units.values()].map((u) => this.stopAll(u)));
  }
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill("SIGKILL"), LOCAL_STOP_GRACE_MS);
    c.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    c.kill("SIGTERM");
  });
}
