import { Counter } from "prom-client";
import { json, problem, upstreamProblem } from "./http-kit.js";
import type { ServiceFactory } from "./service-runtime.js";

const ALL = "\u0000all";

/** Products, read from the store through a small LRU cache with a freshness limit. */
export const catalogService: ServiceFactory<"catalog"> = (rt) => {
  const cfg = rt.config;
  const cache = new Map<string, { value: unknown; at: number }>();
  const lookups = new Counter({
    name: "catalog_cache_requests_total",
    help: "Catalog cache lookups, by result (hit, miss)",
    labelNames: ["result"],
    registers: [rt.metrics.registry],
  });
  const cached = (key: string): unknown => {
    const e = cache.get(key);
    if (e && Date.now() - e.at <= cfg.cache_ttl_ms) {
      cache.delete(key); // re-insert: Map order is the LRU order
      cache.set(key, e);
      lookups.inc({ result: "hit" });
      return e.value;
    }
    lookups.inc({ result: "miss" });
    return undefined;
  };
  const remember = (key: string, value: unknown): void => {
    if (cfg.cache_size === 0) return;
    cache.delete(key);
    cache.set(key, { value, at: Date.now() });
    while (cache.size > cfg.cache_size) cache.delete(cache.keys().next().value!);
  };
  return {
    routes: (r) => {
      r.on("GET", "/products", async (req) => {
        const hit = cached(ALL);
        if (hit !== undefined) return json(200, hit);
        const res = await rt.upstream.call(req.ctx, "store", "GET", "/kv/products");
        if (res.status === "error") return upstreamProblem(res.error);
        if (res.value.status !== 200) return problem(502, `store answered ${res.value.status}`);
        const items = (res.value.body as { items: { value: unknown }[] }).items.map((i) => i.value);
        const body = { products: items };
        remember(ALL, body);
        return json(200, body);
      }).on("GET", "/products/:id", async (req) => {
        const id = req.params["id"]!;
        const hit = cached(id);
        if (hit !== undefined) return json(200, hit);
        const res = await rt.upstream.call(req.ctx, "store", "GET", `/kv/products/${encodeURIComponent(id)}`);
        if (res.status === "error") return upstreamProblem(res.error);
        if (res.value.status === 404) return problem(404, `no product ${id}`);
        if (res.value.status !== 200) return problem(502, `store answered ${res.value.status}`);
        const product = (res.value.body as { value: unknown }).value;
        remember(id, product);
        return json(200, product);
      });
    },
  };
};
