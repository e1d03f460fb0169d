import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./ports.js";

const CANDIDATES = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"];
export const prometheusBinary =
  process.env["NOVASRE_PROMETHEUS_BIN"] ?? CANDIDATES.find((p) => existsSync(p));

if (!prometheusBinary) {
  if (process.env["CI"]) throw new Error("Prometheus is required in CI (Debian package prometheus)");
  console.warn(
    "[novasre tests] real-Prometheus tests skipped: no prometheus binary (apt-get install prometheus)",
  );
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

/** Starts a real Prometheus on loopback with the given config YAML and a temporary storage directory. */
export async function startPrometheus(configYaml: string): Promise<RunningPrometheus> {
  if (!prometheusBinary) throw new Error("no prometheus binary");
  const dir = await mkdtemp(join(tmpdir(), "novasre-prom-"));
  await writeFile(join(dir, "prometheus.yml"), configYaml);
  const port = await freePort();
  const child: ChildProcess = spawn(
    prometheusBinary,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor("prometheus ready", async () => (await fetch(`${url}/-/ready`)).ok || undefined, 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`prometheus did not start: ${String(e)}\n${stderr}`);
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
