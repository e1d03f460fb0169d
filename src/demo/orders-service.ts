import { z } from "zod";
import { Counter } from "prom-client";
import { newId } from "../core/index.js";
import { json, problem, upstreamProblem } from "./http-kit.js";
import type { Cart } from "./cart-service.js";
import type { ServiceFactory } from "./service-runtime.js";

const checkoutSchema = z.object({ user: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });

/** Checkout: read the cart, charge the card, record the order, empty the cart. */
export const ordersService: ServiceFactory<"orders"> = (rt) => {
  const cfg = rt.config;
  const orders = new Counter({
    name: "orders_total",
    help: "Checkouts, by result (placed, declined, empty, failed)",
    labelNames: ["result"],
    registers: [rt.metrics.registry],
  });
  const value = new Counter({
    name: "orders_value_cents_total",
    help: "Value of placed orders (cents)",
    registers: [rt.metrics.registry],
  });
  return {
    routes: (r) => {
      r.on("POST", "/orders", async (req) => {
        const b = checkoutSchema.safeParse(req.body);
        if (!b.success) return problem(400, "expected {user}");
        const user = b.data.user;
        const c = await rt.upstream.call(req.ctx, "cart", "GET", `/carts/${encodeURIComponent(user)}`);
        if (c.status === "error") {
          orders.inc({ result: "failed" });
          return upstreamProblem(c.error);
        }
        if (c.value.status !== 200) {
          orders.inc({ result: "failed" });
          return problem(502, `cart answered ${c.value.status}`);
        }
        const cart = c.value.body as Cart;
        if (!cart.items.length) {
          orders.inc({ result: "empty" });
          return problem(409, "cart is empty");
        }
        if (cart.items.length > cfg.max_items) {
          orders.inc({ result: "failed" });
          return problem(400, `an order holds at most ${cfg.max_items} products`);
        }
        const total = cart.items.reduce((s, i) => s + i.price * i.qty, 0);
        const orderId = newId("ord");
        req.span.setAttributes({ "order.id": orderId, "order.total_cents": total });
        const pay = await rt.upstream.call(req.ctx, "payments", "POST", "/charges", {
          orderId,
          amount: total,
          currency: "EUR",
        });
        if (pay.status === "error") {
          orders.inc({ result: "failed" });
          return upstreamProblem(pay.error);
        }
        if (pay.value.status === 402) {
          orders.inc({ result: "declined" });
          return problem(402, "payment declined", { orderId });
        }
        if (pay.value.status !== 201) {
          orders.inc({ result: "failed" });
          return problem(
            pay.value.status >= 500 ? pay.value.status : 502,
            `payments answered ${pay.value.status}`,
            {
              orderId,
            },
          );
        }
        const order = { id: orderId, user, items: cart.items, total, status: "paid", at: Date.now() };
        const w = await rt.upstream.call(req.ctx, "store", "PUT", `/kv/orders/${orderId}`, order);
        if (w.status === "error" || w.value.status !== 200) {
          // Charged but not recorded: the one failure a shop must never hide.
          rt.logger.error({ orderId, user, total }, "payment taken but order not stored");
          orders.inc({ result: "failed" });
          return w.status === "error"
            ? upstreamProblem(w.error)
            : problem(502, `store answered ${w.value.status}`);
        }
        const cleared = await rt.upstream.call(
          req.ctx,
          "cart",
          "DELETE",
          `/carts/${encodeURIComponent(user)}`,
        );
        if (cleared.status === "error") rt.logger.warn({ orderId, user }, "order placed, cart not emptied");
        orders.inc({ result: "placed" });
        value.inc(total);
        return json(201, order);
      }).on("GET", "/orders/:id", async (req) => {
        const res = await rt.upstream.call(
          req.ctx,
          "store",
          "GET",
          `/kv/orders/${encodeURIComponent(req.params["id"]!)}`,
        );
        if (res.status === "error") return upstreamProblem(res.error);
        if (res.value.status === 404) return problem(404, "no such order");
        return json(
          res.value.status === 200 ? 200 : 502,
          (res.value.body as { value?: unknown }).value ?? res.value.body,
        );
      });
    },
  };
};
