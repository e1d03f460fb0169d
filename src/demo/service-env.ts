/** The environment contract between the supervisor and a service process. */
export const SERVICE_ENV = {
  service: "NOVA_SHOP_SERVICE",
  instance: "NOVA_SHOP_INSTANCE",
  port: "NOVA_SHOP_PORT",
  config: "NOVA_SHOP_CONFIG",
  upstreams: "NOVA_SHOP_UPSTREAMS",
  otlpUrl: "NOVA_SHOP_OTLP_URL",
  traceExportDelayMs: "NOVA_SHOP_TRACE_EXPORT_DELAY_MS",
  dataDir: "NOVA_SHOP_DATA_DIR",
} as const;
