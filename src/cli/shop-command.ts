import type { Command } from "commander";
import { z } from "zod";
import { LoadGenerator, Shop, DEFAULT_LOAD_RATE_PER_S, type LoadStats } from "../demo/index.js";
import { CliExit, EXIT_USAGE } from "./output.js";

/** How often the running shop prints a line of load statistics (seconds); 0 turns it off. */
export const DEFAULT_SHOP_STATS_EVERY_S = 10;

const optsSchema = z.object({
  rate: z.coerce.number().positive().max(10_000),
  otlp: z.url({ protocol: /^https?$/ }).optional(),
  port: z.coerce.number().int().min(0).max(65535),
  data: z.string().min(1).optional(),
  statsEvery: z.coerce.number().min(0),
});

export interface ShopCommandIo {
  out(line: string): void;
  err(line: string): void;
  /** Resolves when the shop should stop (Ctrl-C by default). */
  untilStopped(): Promise<string>;
}

const defaultIo: ShopCommandIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  untilStopped: () =>
    new Promise((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    }),
};

export function formatLoadStats(s: LoadStats): string {
  const ms = (v: number | null) => (v === null ? "-" : `${Math.round(v)}ms`);
  return `sent ${s.sent}  ok ${s.ok}  rejected ${s.rejected}  errors ${s.errors}  skipped ${s.skipped}  p50 ${ms(s.latencyMs.p50)}  p90 ${ms(s.latencyMs.p90)}  p99 ${ms(s.latencyMs.p99)}`;
}

export async function runShopCommand(
  raw: Record<string, unknown>,
  io: ShopCommandIo = defaultIo,
): Promise<void> {
  const parsed = optsSchema.safeParse(raw);
  if (!parsed.success)
    throw new CliExit(
      EXIT_USAGE,
      `error: ${parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const o = parsed.data;
  io.err("starting the demo shop (six processes; this takes a few seconds)...");
  const shop = await Shop.start({
    gatewayPort: o.port,
    ...(o.otlp ? { otlpUrl: o.otlp } : {}),
    ...(o.data ? { dataDir: o.data } : {}),
  });
  const load = new LoadGenerator({ gatewayUrl: shop.gatewayUrl, ratePerS: o.rate });
  let ticker: NodeJS.Timeout | undefined;
  try {
    load.start();
    io.out(`demo shop ready; load ${o.rate} req/s`);
    io.out(`  gateway     ${shop.gatewayUrl}  (try ${shop.gatewayUrl}/api/catalog)`);
    for (const i of shop.instances())
      io.out(`  ${i.id.padEnd(12)}pid ${String(i.pid ?? "-").padEnd(8)}${i.metricsUrl ?? ""}`);
    io.out(`  traces      ${o.otlp ?? "off (use --otlp URL/v1/traces)"}`);
    io.out(`  data/logs   ${shop.directory}${o.data ? "" : " (temporary, removed on exit)"}`);
    io.out("Ctrl-C stops the load and every service.");
    if (o.statsEvery > 0)
      ticker = setInterval(() => io.err(formatLoadStats(load.snapshot())), o.statsEvery * 1000);
    const why = await io.untilStopped();
    io.err(`stopping (${why})...`);
  } finally {
    if (ticker) clearInterval(ticker);
    const final = await load.stop();
    await shop.stop();
    io.out(`final: ${formatLoadStats(final)}`);
  }
}

/** `novasre shop`: the demo shop with steady load, until Ctrl-C. */
export function registerShopCommand(program: Command, io: ShopCommandIo = defaultIo): void {
  program
    .command("shop")
    .description("run the demo shop (gateway, catalog, cart, orders, payments, store) with steady load")
    .option("--rate <n>", "requests per second of the load generator", String(DEFAULT_LOAD_RATE_PER_S))
    .option("--otlp <url>", "export traces over OTLP/HTTP to this URL (e.g. http://127.0.0.1:8480/v1/traces)")
    .option("--port <n>", "gateway port (0 picks a free one)", "0")
    .option("--data <dir>", "keep configs, logs and the SQLite store in DIR (default: a temporary folder)")
    .option(
      "--stats-every <s>",
      "print load statistics every S seconds (0: never)",
      String(DEFAULT_SHOP_STATS_EVERY_S),
    )
    .action((opts: Record<string, unknown>) => runShopCommand(opts, io));
}
