import { z } from "zod";
import { Counter } from "prom-client";
import { json, problem, upstreamProblem } from "./http-kit.js";
import type { ServiceFactory } from "./service-runtime.js";

export interface CartItem {
  productId: string;
  name: string;
  price: number;
  qty: number;
}
export interface Cart {
  user: string;
  items: CartItem[];
}

const addSchema = z.object({
  productId: z.string().min(1).max(100),
  qty: z.number().int().min(1).max(99).default(1),
});
const userRe = /^[A-Za-z0-9_-]{1,64}$/;

/** Per-user carts, kept in the store; prices are taken from the catalog when an item is added. */
export const cartService: ServiceFactory<"cart"> = (rt) => {
  const cfg = rt.config;
  const added = new Counter({
    name: "cart_items_added_total",
    help: "Items added to carts",
    registers: [rt.metrics.registry],
  });
  const load = async (ctx: Parameters<typeof rt.upstream.call>[0], user: string) => {
    const res = await rt.upstream.call(ctx, "store", "GET", `/kv/carts/${encodeURIComponent(user)}`);
    if (res.status === "error") return res;
    if (res.value.status === 404) return { status: "ok" as const, value: { user, items: [] } as Cart };
    if (res.value.status !== 200) return { status: "store" as const, code: res.value.status };
    return { status: "ok" as const, value: (res.value.body as { value: Cart }).value };
  };
  return {
    routes: (r) => {
      r.on("GET", "/carts/:user", async (req) => {
        const user = req.params["user"]!;
        if (!userRe.test(user)) return problem(400, "bad user id");
        const c = await load(req.ctx, user);
        if (c.status === "error") return upstreamProblem(c.error);
        if (c.status === "store") return problem(502, `store answered ${c.code}`);
        return json(200, c.value);
      })
        .on("POST", "/carts/:user/items", async (req) => {
          const user = req.params["user"]!;
          if (!userRe.test(user)) return problem(400, "bad user id");
          const b = addSchema.safeParse(req.body);
          if (!b.success) return problem(400, "expected {productId, qty}");
          const p = await rt.upstream.call(
            req.ctx,
            "catalog",
            "GET",
            `/products/${encodeURIComponent(b.data.productId)}`,
          );
          if (p.status === "error") return upstreamProblem(p.error);
          if (p.value.status === 404) return problem(404, `no product ${b.data.productId}`);
          if (p.value.status !== 200) return problem(502, `catalog answered ${p.value.status}`);
          const product = p.value.body as { id: string; name: string; price: number };
          const c = await load(req.ctx, user);
          if (c.status === "error") return upstreamProblem(c.error);
          if (c.status === "store") return problem(502, `store answered ${c.code}`);
          const cart = c.value;
          const line = cart.items.find((i) => i.productId === product.id);
          if (line) line.qty += b.data.qty;
          else if (cart.items.length >= cfg.max_items)
            return problem(409, `a cart holds at most ${cfg.max_items} products`);
          else
            cart.items.push({
              productId: product.id,
              name: product.name,
              price: product.price,
              qty: b.data.qty,
            });
          const w = await rt.upstream.call(
            req.ctx,
            "store",
            "PUT",
            `/kv/carts/${encodeURIComponent(user)}`,
            cart,
          );
          if (w.status === "error") return upstreamProblem(w.error);
          if (w.value.status !== 200) return problem(502, `store answered ${w.value.status}`);
          added.inc(b.data.qty);
          return json(200, cart);
        })
        .on("DELETE", "/carts/:user", async (req) => {
          const user = req.params["user"]!;
          if (!userRe.test(user)) return problem(400, "bad user id");
          const w = await rt.upstream.call(
            req.ctx,
            "store",
            "DELETE",
            `/kv/carts/${encodeURIComponent(user)}`,
          );
          if (w.status === "error") return upstreamProblem(w.error);
          return json(200, { user, items: [] });
        });
    },
  };
};
