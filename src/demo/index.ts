export {
  SHOP_SERVICES,
  SHOP_TOPOLOGY,
  SCALABLE_SERVICES,
  shopServiceSchema,
  serviceConfigSchemas,
  parseServiceConfig,
  faultsSchema,
  semanticProblems,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  DEFAULT_GATEWAY_RETRIES,
  DEFAULT_CATALOG_CACHE_SIZE,
  DEFAULT_CATALOG_CACHE_TTL_MS,
  DEFAULT_CART_MAX_ITEMS,
  DEFAULT_ORDERS_MAX_ITEMS,
  DEFAULT_PAYMENTS_LATENCY_MS,
  DEFAULT_PAYMENTS_JITTER_MS,
  DEFAULT_PAYMENTS_TIMEOUT_MS,
  DEFAULT_PAYMENTS_FAILURE_RATE,
  DEFAULT_STORE_BUSY_TIMEOUT_MS,
  DEFAULT_STORE_DISK_QUOTA_MB,
  MAX_LEAK_MB,
} from "./config.js";
export type {
  ShopService,
  ServiceConfigs,
  RawServiceConfig,
  ConfigCheck,
  Faults,
  GatewayConfig,
  CatalogConfig,
  CartConfig,
  OrdersConfig,
  PaymentsConfig,
  StoreConfig,
} from "./config.js";
export {
  Shop,
  defaultServiceCommand,
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_STOP_GRACE_MS,
  MAX_INSTANCES,
  PROBE_TIMEOUT_MS,
  MAX_FILL_DISK_MB,
  MAX_CLOCK_SKEW_S,
  PARTITION_BLACKHOLE_URL,
} from "./shop.js";
export type {
  ShopOptions,
  ShopControl,
  ShopEvent,
  InstanceInfo,
  InstanceHealth,
  InstanceState,
  ScrapeTarget,
  ReadyOutcome,
  ConfigChangeOutcome,
  ServiceCommand,
  ShopChange,
  RestartOptions,
  ApplyConfigOptions,
} from "./shop.js";
export { ShopProvider, SHOP_PROVIDER_WHOLE_SHOP } from "./shop-provider.js";
export { PROCESS_FAULT_TICK_MS } from "./process-faults.js";
export {
  LoadGenerator,
  percentile,
  DEFAULT_LOAD_RATE_PER_S,
  DEFAULT_LOAD_USERS,
  DEFAULT_LOAD_MIX,
  DEFAULT_MAX_IN_FLIGHT,
  LATENCY_WINDOW_SAMPLES,
} from "./load.js";
export type { LoadOptions, LoadStats, LoadAction, ActionStats } from "./load.js";
export { startService } from "./service-runtime.js";
export { SERVICE_ENV } from "./service-env.js";
export type { ServiceSpec, RunningService } from "./service-runtime.js";
export { SERVICE_FACTORIES } from "./services.js";
export { SEED_PRODUCTS, DISK_CHECK_INTERVAL_MS } from "./store-service.js";
export { DEFAULT_TRACE_EXPORT_DELAY_MS } from "./telemetry.js";
