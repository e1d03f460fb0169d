import { z } from "zod";
import { Counter } from "prom-client";
import { json, problem, sleep } from "./http-kit.js";
import type { ServiceFactory } from "./service-runtime.js";

const chargeSchema = z.object({
  orderId: z.string().min(1).max(100),
  amount: z.number().int().positive(),
  currency: z.string().length(3).default("EUR"),
});

/** A card processor stand-in: latency, timeouts and declines, the three things real ones do to you. */
export const paymentsService: ServiceFactory<"payments"> = (rt) => {
  const cfg = rt.config;
  const payments = new Counter({
    name: "payments_total",
    help: "Charges attempted, by result (approved, declined, timeout)",
    labelNames: ["result"],
    registers: [rt.metrics.registry],
  });
  const failed = new Counter({
    name: "payments_failed_total",
    help: "Charges that did not go through, by reason",
    labelNames: ["reason"],
    registers: [rt.metrics.registry],
  });
  return {
    routes: (r) => {
      r.on("POST", "/charges", async (req) => {
        const b = chargeSchema.safeParse(req.body);
        if (!b.success) return problem(400, "expected {orderId, amount (cents), currency}");
        const latency = cfg.latency_ms + rt.random() * cfg.jitter_ms;
        if (latency >= cfg.timeout_ms) {
          await sleep(cfg.timeout_ms);
          payments.inc({ result: "timeout" });
          failed.inc({ reason: "timeout" });
          return problem(504, `card network did not answer within ${cfg.timeout_ms} ms`);
        }
        await sleep(latency);
        if (rt.random() < cfg.failure_rate) {
          payments.inc({ result: "declined" });
          failed.inc({ reason: "declined" });
          return problem(402, "card declined", { orderId: b.data.orderId });
        }
        payments.inc({ result: "approved" });
        req.span.setAttribute("payment.amount", b.data.amount);
        return json(201, {
          orderId: b.data.orderId,
          status: "approved",
          authorization: `auth-${Date.now().toString(36)}`,
        });
      });
    },
  };
};
