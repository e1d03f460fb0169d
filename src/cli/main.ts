import { Command, CommanderError } from "commander";
import { EXIT_OK, EXIT_USAGE, reportError } from "./output.js";

type Register = (program: Command) => void;

// Each command loads only its own part of the platform: importing all of it costs about a second of
// start-up, which `novasre chaos stop` (an emergency stop) must not pay.
const loadCore = async (): Promise<Register> => (await import("./core-commands.js")).registerCoreCommands;
const COMMANDS: Record<string, () => Promise<Register>> = {
  serve: loadCore,
  config: loadCore,
  token: loadCore,
  incident: loadCore,
  notify: async () => {
    const [{ registerNotifyCommand }, { loadConfig }, { configOption }] = await Promise.all([
      import("./notify-command.js"),
      import("../config/index.js"),
      import("./options.js"),
    ]);
    return (p) => void registerNotifyCommand(p, { loadConfig: (f) => loadConfig(f), configOption });
  },
  detect: async () => (await import("./detect-command.js")).registerDetectCommand,
  chaos: async () => (await import("./chaos-command.js")).registerChaosCommand,
  shop: async () => (await import("./shop-command.js")).registerShopCommand,
  demo: async () => (await import("./gameday-command.js")).registerGameDayCommands,
  gameday: async () => (await import("./gameday-command.js")).registerGameDayCommands,
  runbook: async () => (await import("./runbook-command.js")).registerRunbookCommand,
};

/** The whole program, or (`only`) just the command the user named. */
export async function buildProgram(only?: string): Promise<Command> {
  const { VERSION } = await import("../version.js");
  const program = new Command("novasre")
    .description("NovaCron SRE: alerts in, incidents out, the right people told, through one guarded loop.")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  const loaders =
    only === "-V" || only === "--version"
      ? []
      : only && COMMANDS[only]
        ? [COMMANDS[only]]
        : [...new Set(Object.values(COMMANDS))];
  const registers = await Promise.all(loaders.map((l) => l()));
  for (const r of new Set(registers)) r(program);
  return program;
}

/** Runs the CLI; resolves with the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv[0]);
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return reportError(e);
  }
}
