import { fail, NovaError, ok, type Result } from "../core/index.js";
import type { ActionOutput, ActionProvider, ActionRequest } from "../providers/index.js";
import { SCALABLE_SERVICES, shopServiceSchema, type ShopService } from "./config.js";
import { MAX_INSTANCES, type ReadyOutcome, type ShopControl } from "./shop.js";

/** What `cleanup` accepts as target besides a service or instance: the shop as a whole. */
export const SHOP_PROVIDER_WHOLE_SHOP = "shop";

/**
 * Runbook `action` steps against the demo shop (`provider: shop`). Targets are services or instance ids
 * (`payments`, `catalog-1`). Every expected failure (unknown target, a service that does not get ready)
 * is an error value; the step's retry policy decides what happens next.
 */
export class ShopProvider implements ActionProvider {
  readonly name = "shop";

  constructor(private readonly shop: ShopControl) {}

  async run(req: ActionRequest): Promise<Result<ActionOutput>> {
    if (req.signal.aborted) return fail(`shop provider: ${req.verb} ${req.target} cancelled`, true);
    try {
      return await this.dispatch(req);
    } catch (e) {
      // The shop raises NovaErrors for bad targets and arguments, and when it is stopped.
      if (e instanceof NovaError) return fail(`shop provider: ${e.message}`, e.retryable);
      throw e;
    }
  }

  private async dispatch(req: ActionRequest): Promise<Result<ActionOutput>> {
    const { verb, target } = req;
    switch (verb) {
      case "status":
        return this.known(target) ?? ok(await this.status(target, "status"));
      case "restart": {
        const bad = this.known(target);
        if (bad) return bad;
        // A runbook may bound the wait for readiness, so a restart that cannot help fails fast.
        const wait = Number(req.args["ready_timeout_ms"]);
        const opts = Number.isFinite(wait) && wait > 0 ? { readyTimeoutMs: wait } : {};
        return this.readyResult(target, "restarted", await this.shop.restart(target, opts));
      }
      case "start": {
        const bad = this.known(target);
        if (bad) return bad;
        const down = this.members(target).filter(
          (i) => i.paused || (i.state !== "running" && i.state !== "starting"),
        );
        if (!down.length) return ok(await this.status(target, "already running"));
        const reasons: Record<string, string> = {};
        for (const i of down) Object.assign(reasons, (await this.shop.restart(i.id)).reasons);
        return this.readyResult(target, `started ${down.map((i) => i.id).join(", ")}`, {
          ready: Object.keys(reasons).length === 0,
          reasons,
        });
      }
      case "stop": {
        const bad = this.known(target);
        if (bad) return bad;
        await this.shop.stopService(target);
        return ok(await this.status(target, "stopped"));
      }
      case "scale": {
        const service = this.service(target);
        if (!service || !SCALABLE_SERVICES.includes(service))
          return fail(
            `shop provider: scale needs one of ${SCALABLE_SERVICES.join(", ")}, not ${target}`,
            false,
          );
        const n = Number(req.args["replicas"]);
        if (!Number.isInteger(n) || n < 1 || n > MAX_INSTANCES)
          return fail(`shop provider: replicas must be an integer 1-${MAX_INSTANCES}`, false);
        return this.readyResult(target, `scaled to ${n}`, await this.shop.scale(service, n));
      }
      case "rollback": {
        const service = this.service(target);
        if (!service) return fail(`shop provider: rollback needs a service, not ${target}`, false);
        const r = await this.shop.rollbackConfig(service);
        if (r.outcome !== "rolled_back") return fail(`shop provider: unexpected outcome ${r.outcome}`, false);
        const data = { restored: r.restored, rejected: r.rejected, recovered: r.recovered };
        if (!r.recovered)
          return fail(`shop provider: ${service} not ready after rollback: ${r.reason}`, true);
        return ok({ message: `${service}: ${r.reason}`, data });
      }
      case "cleanup": {
        if (target !== SHOP_PROVIDER_WHOLE_SHOP) {
          const bad = this.known(target);
          if (bad) return bad;
        }
        const { removed, bytes } = await this.shop.purgeLogs();
        return ok({
          message: `${target}: removed ${removed} rotated log(s), ${(bytes / (1024 * 1024)).toFixed(1)} MB freed`,
          data: { removed, bytes },
        });
      }
    }
  }

  private service(target: string): ShopService | undefined {
    const r = shopServiceSchema.safeParse(target);
    return r.success ? r.data : undefined;
  }

  private members(target: string) {
    return this.shop.instances().filter((i) => i.service === target || i.id === target);
  }

  /** An error value when nothing in the shop answers to `target`. */
  private known(target: string): Result<never> | undefined {
    return this.members(target).length
      ? undefined
      : fail(`shop provider: no service or instance called ${JSON.stringify(target)}`, false);
  }

  private async status(target: string, what: string): Promise<ActionOutput> {
    const ids = new Set(this.members(target).map((i) => i.id));
    const service = this.service(target);
    const health = (await this.shop.health(service)).filter((h) => ids.has(h.id));
    const ready = health.filter((h) => h.ready).length;
    return {
      message: `${target}: ${what}; ${ready}/${health.length} ready`,
      data: {
        instances: health.map((h) => ({
          id: h.id,
          state: h.paused ? "paused" : h.state,
          pid: h.pid,
          healthy: h.healthy,
          ready: h.ready,
          ...(h.reason ? { reason: h.reason } : {}),
          restarts: h.restarts,
        })),
      },
    };
  }

  private async readyResult(target: string, what: string, r: ReadyOutcome): Promise<Result<ActionOutput>> {
    if (!r.ready)
      return fail(
        `shop provider: ${target} ${what} but not ready: ${Object.entries(r.reasons)
          .map(([id, why]) => `${id}: ${why}`)
          .join("; ")}`,
        true,
      );
    return ok(await this.status(target, what));
  }
}
