import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./ports.js";

const CANDIDATES = [
  "/usr/bin/prometheus-alertmanager",
  "/usr/bin/alertmanager",
  "/usr/local/bin/alertmanager",
];
export const alertmanagerBinary =
  process.env["NOVASRE_ALERTMANAGER_BIN"] ?? CANDIDATES.find((p) => existsSync(p));

if (!alertmanagerBinary) {
  if (process.env["CI"])
    throw new Error("Alertmanager is required in CI (Debian package prometheus-alertmanager)");
  console.warn(
    "[novasre tests] real-Alertmanager tests skipped: no alertmanager binary (apt-get install prometheus-alertmanager)",
  );
}

export interface RunningAlertmanager {
  url: string;
  stop(): Promise<void>;
}

/** Starts a real Alertmanager on loopback with the given config YAML. */
export async function startAlertmanager(configYaml: string): Promise<RunningAlertmanager> {
  if (!alertmanagerBinary) throw new Error("no alertmanager binary");
  const dir = await mkdtemp(join(tmpdir(), "novasre-am-"));
  await writeFile(join(dir, "am.yml"), configYaml);
  const port = await freePort();
  const child: ChildProcess = spawn(
    alertmanagerBinary,
    [
      `--config.file=${join(dir, "am.yml")}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor("alertmanager ready", async () => (await fetch(`${url}/-/ready`)).ok || undefined, 20_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`alertmanager did not start: ${String(e)}\n${stderr}`);
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
