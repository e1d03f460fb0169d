import { DEFAULT_LIMIT_MIN_TARGETS, DEFAULT_MAX_UNHEALTHY_SHARE } from "./config.js";

export interface UnhealthyLimitOptions {
  /** Share (0-1) of targets not healthy above which healing holds. */
  maxUnhealthyShare?: number;
  /** Fewer targets than this and the limit never holds. */
  minTargets?: number;
}

/**
 * Cluster API's MachineHealthCheck `maxUnhealthy`: when too many targets are unhealthy at once the cause
 * is likely shared (network, a dependency, the prober itself), so remediating each would make it worse.
 * Holds all remediation while exceeded and asks for one page per episode.
 */
export class UnhealthyLimit {
  private readonly maxShare: number;
  private readonly minTargets: number;
  private exceeded = false;

  constructor(opts: UnhealthyLimitOptions = {}) {
    this.maxShare = opts.maxUnhealthyShare ?? DEFAULT_MAX_UNHEALTHY_SHARE;
    this.minTargets = opts.minTargets ?? DEFAULT_LIMIT_MIN_TARGETS;
  }

  /**
   * `targets` undefined means unknown (the minimum is not applied). `page` is true only on the check
   * that starts an exceeded episode.
   */
  check(share: number, targets?: number): { hold: boolean; page: boolean } {
    const applies = targets === undefined || targets >= this.minTargets;
    const hold = applies && share > this.maxShare;
    const page = hold && !this.exceeded;
    this.exceeded = hold;
    return { hold, page };
  }
}
