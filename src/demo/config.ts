import { z } from "zod";
import { describeIssues, type ErrorDetail } from "../core/index.js";

/** The services of the shop, in the order a person reads them (front door first). */
export const SHOP_SERVICES = ["gateway", "catalog", "cart", "orders", "payments", "store"] as const;
export type ShopService = (typeof SHOP_SERVICES)[number];
export const shopServiceSchema = z.enum(SHOP_SERVICES);

/** Who calls whom. The supervisor hands each service the URLs of these, and only these. */
export const SHOP_TOPOLOGY: Readonly<Record<ShopService, readonly ShopService[]>> = {
  gateway: ["catalog", "cart", "orders"],
  catalog: ["store"],
  cart: ["catalog", "store"],
  orders: ["cart", "payments", "store"],
  payments: [],
  store: [],
};

/** Services that may run as several instances: stateless, and behind a caller that balances. */
export const SCALABLE_SERVICES: readonly ShopService[] = ["catalog", "cart", "orders", "payments"];

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 2_000;
export const DEFAULT_GATEWAY_RETRIES = 1;
export const DEFAULT_CATALOG_CACHE_SIZE = 100; // entries
export const DEFAULT_CATALOG_CACHE_TTL_MS = 5_000;
export const DEFAULT_CART_MAX_ITEMS = 50; // distinct products per cart
export const DEFAULT_ORDERS_MAX_ITEMS = 20; // distinct products per order
/** Card networks answer in tens of milliseconds; the jitter keeps the histogram honest. */
export const DEFAULT_PAYMENTS_LATENCY_MS = 25;
export const DEFAULT_PAYMENTS_JITTER_MS = 15;
export const DEFAULT_PAYMENTS_TIMEOUT_MS = 1_000;
/** About one card in a hundred is declined in a healthy shop: errors exist even on a good day. */
export const DEFAULT_PAYMENTS_FAILURE_RATE = 0.01;
export const DEFAULT_STORE_BUSY_TIMEOUT_MS = 2_000;
/** Space the store may use (MB): its SQLite files plus the shop's logs folder. Over it, writes answer 507. */
export const DEFAULT_STORE_DISK_QUOTA_MB = 256;
/** Safety cap of the memory-leak fault (MB retained per process): a game day must not take the machine down. */
export const MAX_LEAK_MB = 1_024;

const rate = z.number().min(0).max(1);
const ms = (d: number, what: string) =>
  z.number().int().min(0).max(600_000).default(d).describe(`${what} (ms)`);

/** Knobs every service has. The fault knobs are off by default; chaos and game days turn them. */
const commonShape = {
  log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  upstream_timeout_ms: ms(DEFAULT_UPSTREAM_TIMEOUT_MS, "timeout of each call to another service"),
  retries: z
    .number()
    .int()
    .min(0)
    .max(5)
    .default(0)
    .describe("extra attempts on another instance when a call cannot connect"),
  extra_latency_ms: ms(0, "fault: added to every request"),
  error_rate: rate.default(0).describe("fault: share of requests answered 500"),
};

/** Run-time fault injection, for chaos experiments: the same knobs as in the config file. */
export const faultsSchema = z
  .object({
    extra_latency_ms: z.number().int().min(0).max(600_000).optional(),
    error_rate: z.number().min(0).max(1).optional(),
    cpu_hog: z.number().min(0).max(1).optional().describe("share of one core burnt in the event loop"),
    leak_mb_per_s: z
      .number()
      .min(0)
      .max(MAX_LEAK_MB)
      .optional()
      .describe(`MB allocated and retained each second, up to ${MAX_LEAK_MB} MB in all`),
  })
  .strict();
export type Faults = z.infer<typeof faultsSchema>;

export const gatewayConfigSchema = z
  .object({ ...commonShape, retries: commonShape.retries.default(DEFAULT_GATEWAY_RETRIES) })
  .strict();
export const catalogConfigSchema = z
  .object({
    ...commonShape,
    cache_size: z.number().int().min(0).max(100_000).default(DEFAULT_CATALOG_CACHE_SIZE).describe("entries"),
    cache_ttl_ms: ms(DEFAULT_CATALOG_CACHE_TTL_MS, "how long a cached product stays fresh"),
  })
  .strict();
export const cartConfigSchema = z
  .object({ ...commonShape, max_items: z.number().int().min(1).max(1000).default(DEFAULT_CART_MAX_ITEMS) })
  .strict();
export const ordersConfigSchema = z
  .object({ ...commonShape, max_items: z.number().int().min(1).max(1000).default(DEFAULT_ORDERS_MAX_ITEMS) })
  .strict();
export const paymentsConfigSchema = z
  .object({
    ...commonShape,
    latency_ms: ms(DEFAULT_PAYMENTS_LATENCY_MS, "simulated card network latency"),
    jitter_ms: ms(DEFAULT_PAYMENTS_JITTER_MS, "uniform random extra latency"),
    // min 1, not a sensible floor: a config can be valid and still break the service, as in real life.
    timeout_ms: z.number().int().min(1).max(600_000).default(DEFAULT_PAYMENTS_TIMEOUT_MS).describe("ms"),
    failure_rate: rate.default(DEFAULT_PAYMENTS_FAILURE_RATE).describe("share of charges declined"),
  })
  .strict();
export const storeConfigSchema = z
  .object({
    ...commonShape,
    busy_timeout_ms: ms(DEFAULT_STORE_BUSY_TIMEOUT_MS, "SQLite busy timeout"),
    disk_quota_mb: z
      .number()
      .int()
      .min(1)
      .max(1_048_576)
      .default(DEFAULT_STORE_DISK_QUOTA_MB)
      .describe("MB the store files and the logs folder may use before the store refuses writes"),
  })
  .strict();

export const serviceConfigSchemas = {
  gateway: gatewayConfigSchema,
  catalog: catalogConfigSchema,
  cart: cartConfigSchema,
  orders: ordersConfigSchema,
  payments: paymentsConfigSchema,
  store: storeConfigSchema,
} as const;

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type CatalogConfig = z.infer<typeof catalogConfigSchema>;
export type CartConfig = z.infer<typeof cartConfigSchema>;
export type OrdersConfig = z.infer<typeof ordersConfigSchema>;
export type PaymentsConfig = z.infer<typeof paymentsConfigSchema>;
export type StoreConfig = z.infer<typeof storeConfigSchema>;
export interface ServiceConfigs {
  gateway: GatewayConfig;
  catalog: CatalogConfig;
  cart: CartConfig;
  orders: OrdersConfig;
  payments: PaymentsConfig;
  store: StoreConfig;
}
/** What the supervisor writes: any JSON object; the service itself decides whether it is valid. */
export type RawServiceConfig = Record<string, unknown>;

export type ConfigCheck<S extends ShopService> =
  { valid: true; config: ServiceConfigs[S] } | { valid: false; problems: ErrorDetail[] };

export function parseServiceConfig<S extends ShopService>(service: S, raw: unknown): ConfigCheck<S> {
  const r = serviceConfigSchemas[service].safeParse(raw ?? {});
  if (r.success) return { valid: true, config: r.data as ServiceConfigs[S] };
  return { valid: false, problems: describeIssues(serviceConfigSchemas[service], r.error.issues) };
}

/**
 * Problems that the schema cannot see because they are about two knobs together. A service with such a
 * config starts, answers /healthz, but is not ready and fails the requests the problem touches.
 */
export function semanticProblems(service: ShopService, config: ServiceConfigs[ShopService]): ErrorDetail[] {
  if (service === "payments") {
    const p = config as PaymentsConfig;
    if (p.timeout_ms <= p.latency_ms + p.jitter_ms)
      return [
        {
          path: "timeout_ms",
          message: `${p.timeout_ms} ms is not longer than the processor latency (${p.latency_ms}+${p.jitter_ms} ms): every charge would time out`,
        },
      ];
  }
  return [];
}
