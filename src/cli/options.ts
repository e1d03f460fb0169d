import { Option, type Command } from "commander";

export function configOption(): Option {
  return new Option("-c, --config <file>", "YAML config file (environment NOVASRE_* overrides apply)").env(
    "NOVASRE_CONFIG",
  );
}

export function apiOptions(cmd: Command): Command {
  return cmd
    .option("--url <url>", "server base URL (env NOVASRE_URL, default http://127.0.0.1:8480)")
    .option("--token <token>", "API token (env NOVASRE_TOKEN)");
}
