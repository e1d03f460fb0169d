import { join } from "node:path";
import { findBinary, startDaemon, type RunningDaemon } from "./daemon.js";

export const prometheusBinary = findBinary(
  "Prometheus",
  "NOVASRE_PROMETHEUS_BIN",
  ["/usr/bin/prometheus", "/usr/local/bin/prometheus"],
  "prometheus",
);

export type RunningPrometheus = RunningDaemon;

/** Starts a real Prometheus on loopback with the given config YAML and a temporary storage directory. */
export function startPrometheus(configYaml: string): Promise<RunningPrometheus> {
  if (!prometheusBinary) throw new Error("no prometheus binary");
  return startDaemon({
    name: "prometheus",
    binary: prometheusBinary,
    configName: "prometheus.yml",
    config: configYaml,
    args: (dir, port) => [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
  });
}
