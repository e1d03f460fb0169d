import { Option, type Command } from "commander";
import { ErrorCode, NovaError, ValidationError, type Result } from "../core/index.js";
import {
  previewChannel,
  sampleNotification,
  type NotificationKind,
  type NotifyConfig,
} from "../notify/index.js";

type Loaded = { notify: NotifyConfig };

export interface NotifyCommandDeps {
  /** Loads and validates the config file; may return a Result or throw (e.g. a ConfigError). */
  loadConfig(path: string | undefined): Promise<Result<Loaded, unknown> | Loaded>;
  /** The program's shared config option (e.g. `-c, --config <file>` with env NOVASRE_CONFIG). */
  configOption?: () => Option;
  stdout?: (s: string) => void;
}

const KINDS: readonly NotificationKind[] = ["trigger", "update", "acknowledge", "resolve"];

function isResult(r: Result<Loaded, unknown> | Loaded): r is Result<Loaded, unknown> {
  return "status" in r && (r.status === "ok" || r.status === "error");
}

/**
 * `novasre notify preview --channel NAME [--config FILE] [--kind KIND] [--json]`. Errors are thrown
 * as NovaErrors for the CLI's one error reporter.
 */
export function registerNotifyCommand(program: Command, deps: NotifyCommandDeps): Command {
  const out = deps.stdout ?? ((s: string) => void process.stdout.write(s));
  const notify = program.command("notify").description("notification channels and templates");
  notify
    .command("preview")
    .description("render a channel's message for a built-in sample incident, exactly as it would be sent")
    .requiredOption("--channel <name>", "channel name from notify.channels")
    .addOption(
      deps.configOption ? deps.configOption() : new Option("-c, --config <file>", "YAML config file"),
    )
    .option("--kind <kind>", `notification kind: ${KINDS.join(", ")}`, "trigger")
    .option("--json", "print one JSON object {title, text, payload}")
    .action(async (opts: { channel: string; config?: string; kind: string; json?: boolean }) => {
      if (!(KINDS as readonly string[]).includes(opts.kind))
        throw new ValidationError(`unknown --kind ${JSON.stringify(opts.kind)} (one of ${KINDS.join(", ")})`);
      const loaded = await deps.loadConfig(opts.config);
      let cfg: Loaded;
      if (isResult(loaded)) {
        if (loaded.status === "error") {
          const e = loaded.error;
          throw e instanceof Error
            ? e
            : new NovaError(ErrorCode.ConfigInvalid, typeof e === "string" ? e : JSON.stringify(e));
        }
        cfg = loaded.value;
      } else cfg = loaded;
      const r = previewChannel(
        cfg.notify,
        opts.channel,
        sampleNotification(opts.kind as NotificationKind, opts.channel),
      );
      if (r.status === "error") throw new NovaError(ErrorCode.NotFound, r.error);
      if (opts.json) out(`${JSON.stringify(r.value)}\n`);
      else
        out(
          `Title:\n${r.value.title}\n\nText:\n${r.value.text}\n\nPayload:\n${JSON.stringify(r.value.payload, null, 2)}\n`,
        );
    });
  return notify;
}
