import { join } from "node:path";
import { findBinary, startDaemon, type RunningDaemon } from "./daemon.js";

export const alertmanagerBinary = findBinary(
  "Alertmanager",
  "NOVASRE_ALERTMANAGER_BIN",
  ["/usr/bin/prometheus-alertmanager", "/usr/bin/alertmanager", "/usr/local/bin/alertmanager"],
  "prometheus-alertmanager",
);

export type RunningAlertmanager = RunningDaemon;

/** Starts a real Alertmanager on loopback with the given config YAML. */
export function startAlertmanager(configYaml: string): Promise<RunningAlertmanager> {
  if (!alertmanagerBinary) throw new Error("no alertmanager binary");
  return startDaemon({
    name: "alertmanager",
    binary: alertmanagerBinary,
    configName: "am.yml",
    config: configYaml,
    args: (dir, port) => [
      `--config.file=${join(dir, "am.yml")}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
  });
}
