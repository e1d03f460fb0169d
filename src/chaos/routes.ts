import { z } from "zod";
import type { Api } from "../http/index.js";
import type { ChaosEngine } from "./engine.js";

const stopBody = z.object({ reason: z.string().max(500).default("emergency stop") }).strict();

/** Chaos routes on the main API: status for viewers, emergency stop and clear for admins. */
export function registerChaosRoutes(api: Api, engine: ChaosEngine): void {
  api.route(
    {
      method: "get",
      path: "/api/v1/chaos/status",
      summary: "Chaos engine: faults active in the ledger and the emergency-stop flag",
      tag: "chaos",
      auth: "viewer",
      responses: { 200: "status" },
    },
    (c) =>
      c.json({
        stop: engine.state.stopFlag() ?? null,
        active: engine.state.ledger.pending().map((e) => ({
          id: e.id,
          fault: e.fault,
          target: e.target,
          runId: e.runId,
          appliedAt: e.appliedAt,
        })),
      }),
  );
  api.route(
    {
      method: "post",
      path: "/api/v1/chaos/stop",
      summary: "Emergency stop: revert every active fault and block new runs until cleared",
      tag: "chaos",
      auth: "admin",
      body: stopBody,
      responses: { 200: "reverted" },
    },
    async (c, { body, actor }) => {
      const { reason } = body as z.output<typeof stopBody>;
      const r = await engine.emergencyStop(actor, reason);
      return c.json({ reverted: r.reverted, ms: Math.round(r.ms) });
    },
  );
  api.route(
    {
      method: "delete",
      path: "/api/v1/chaos/stop",
      summary: "Clear the emergency stop so runs may start again",
      tag: "chaos",
      auth: "admin",
      responses: { 200: "cleared" },
    },
    (c) => c.json({ cleared: engine.clearStop() }),
  );
}
