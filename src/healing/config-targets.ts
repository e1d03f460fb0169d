import type { HealingConfig } from "./config.js";
import type { HealthTarget, ProbeSpec } from "./types.js";

/** The targets configured in the `healing.targets` section, as the monitor takes them. */
export function targetsFromConfig(config: HealingConfig): HealthTarget[] {
  return config.targets.map((t) => ({
    id: t.id,
    labels: t.labels,
    probes: t.probes.map((p) => {
      let spec: ProbeSpec;
      if (p.http)
        spec = {
          kind: "http",
          url: p.http.url,
          ...(p.http.expect_status ? { expectStatus: p.http.expect_status } : {}),
        };
      else if (p.tcp) spec = { kind: "tcp", host: p.tcp.host, port: p.tcp.port };
      else {
        // The schema admits exactly one of http, tcp, command.
        const c = p.command as { argv: string[]; cwd?: string | undefined };
        spec = { kind: "command", argv: c.argv, ...(c.cwd ? { cwd: c.cwd } : {}) };
      }
      return {
        name: p.name,
        spec,
        periodMs: p.period,
        timeoutMs: p.timeout,
        failureThreshold: p.failure_threshold,
        successThreshold: p.success_threshold,
        initialDelayMs: p.initial_delay,
        severity: p.severity,
      };
    }),
  }));
}
