import type { Command } from "commander";
import type { Result } from "../core/index.js";
import {
  previewChannel,
  sampleNotification,
  type NotificationKind,
  type NotifyConfig,
} from "../notify/index.js";

export interface NotifyCommandDeps {
  loadConfig(path: string): Promise<Result<{ notify: NotifyConfig }, unknown>>;
  /** Used when --config is not given. */
  defaultConfigPath: string;
  stdout?: (s: string) => void;
  stderr?: (s: string) => void;
}

const KINDS: readonly NotificationKind[] = ["trigger", "update", "acknowledge", "resolve"];

/** `novasre notify preview --channel NAME [--config FILE] [--kind KIND] [--json]` */
export function registerNotifyCommand(program: Command, deps: NotifyCommandDeps): Command {
  const out = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const err = deps.stderr ?? ((s: string) => void process.stderr.write(s));
  const notify = program.command("notify").description("notification channels and templates");
  notify
    .command("preview")
    .description("render a channel's message for a built-in sample incident, exactly as it would be sent")
    .requiredOption("--channel <name>", "channel name from notify.channels")
    .option("--config <file>", "config file", deps.defaultConfigPath)
    .option("--kind <kind>", `notification kind: ${KINDS.join(", ")}`, "trigger")
    .option("--json", "print one JSON object {title, text, payload}")
    .action(async (opts: { channel: string; config: string; kind: string; json?: boolean }) => {
      if (!(KINDS as readonly string[]).includes(opts.kind)) {
        err(`unknown --kind ${JSON.stringify(opts.kind)} (one of ${KINDS.join(", ")})\n`);
        process.exitCode = 2;
        return;
      }
      const cfg = await deps.loadConfig(opts.config);
      if (cfg.status === "error") {
        err(
          `${typeof cfg.error === "string" ? cfg.error : cfg.error instanceof Error ? cfg.error.message : JSON.stringify(cfg.error)}\n`,
        );
        process.exitCode = 1;
        return;
      }
      const r = previewChannel(
        cfg.value.notify,
        opts.channel,
        sampleNotification(opts.kind as NotificationKind, opts.channel),
      );
      if (r.status === "error") {
        err(`${r.error}\n`);
        process.exitCode = 1;
        return;
      }
      if (opts.json) {
        out(`${JSON.stringify(r.value)}\n`);
        return;
      }
      out(
        `Title:\n${r.value.title}\n\nText:\n${r.value.text}\n\nPayload:\n${JSON.stringify(r.value.payload, null, 2)}\n`,
      );
    });
  return notify;
}
