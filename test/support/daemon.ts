import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./ports.js";

/**
 * Finds a Debian-packaged server binary for real-component tests. Missing: the suites skip with a
 * printed reason, except in CI, where they must run.
 */
export function findBinary(
  what: string,
  envVar: string,
  candidates: readonly string[],
  aptPackage: string,
): string | undefined {
  const found = process.env[envVar] ?? candidates.find((p) => existsSync(p));
  if (!found) {
    if (process.env["CI"]) throw new Error(`${what} is required in CI (Debian package ${aptPackage})`);
    console.warn(
      `[novasre tests] real-${what} tests skipped: no ${what} binary (apt-get install ${aptPackage})`,
    );
  }
  return found;
}

export interface RunningDaemon {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a server on a free loopback port with a config file in a temporary directory, and waits for
 * its `/-/ready` endpoint (Prometheus and Alertmanager both have one).
 */
export async function startDaemon(opts: {
  name: string;
  binary: string;
  configName: string;
  config: string;
  args: (dir: string, port: number) => string[];
  readyTimeoutMs?: number;
}): Promise<RunningDaemon> {
  const dir = await mkdtemp(join(tmpdir(), `novasre-${opts.name}-`));
  await writeFile(join(dir, opts.configName), opts.config);
  const port = await freePort();
  const child: ChildProcess = spawn(opts.binary, opts.args(dir, port), {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `${opts.name} ready`,
      async () => (await fetch(`${url}/-/ready`)).ok || undefined,
      opts.readyTimeoutMs ?? 30_000,
    );
  } catch (e) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${opts.name} did not start: ${e instanceof Error ? e.message : "unknown"}\n${stderr}`);
  }
  return {
    url,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
