import { MAX_LEAK_MB } from "./config.js";

/** Period of the CPU hog and leak timers (ms): short enough that the load looks continuous to a scraper. */
export const PROCESS_FAULT_TICK_MS = 100;
const MB = 1024 * 1024;
/** Page size used to touch leaked buffers: one write per page makes the kernel back it with real memory. */
const PAGE_BYTES = 4096;

/**
 * Resource faults a process inflicts on itself: a CPU hog that blocks its own event loop (so requests
 * slow down, as under a hot loop in real code) and a memory leak that really grows RSS. Both stop on
 * `stop()`; a restart starts a fresh process with neither.
 */
export class ProcessFaults {
  private cpuShare = 0;
  private leakMbPerS = 0;
  private readonly leaked: Buffer[] = [];
  private leakedBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  set(opts: { cpu_hog?: number | undefined; leak_mb_per_s?: number | undefined }): void {
    if (opts.cpu_hog !== undefined) this.cpuShare = Math.min(1, Math.max(0, opts.cpu_hog));
    if (opts.leak_mb_per_s !== undefined) this.leakMbPerS = Math.max(0, opts.leak_mb_per_s);
    const active = this.cpuShare > 0 || this.leakMbPerS > 0;
    if (active && !this.timer) {
      this.timer = setInterval(() => this.tick(), PROCESS_FAULT_TICK_MS);
      // The fault must never keep a process alive that is trying to exit.
      this.timer.unref();
    } else if (!active) this.clearTimer();
  }

  /** MB retained by the leak so far (it is only freed by a restart). */
  leakedMb(): number {
    return this.leakedBytes / MB;
  }

  stop(): void {
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.leakMbPerS > 0) this.leak((this.leakMbPerS * MB * PROCESS_FAULT_TICK_MS) / 1000);
    if (this.cpuShare > 0) {
      const until = performance.now() + this.cpuShare * PROCESS_FAULT_TICK_MS;
      // A busy loop on purpose: the event loop is blocked, exactly like a hot loop in a handler.
      while (performance.now() < until) {
        /* burn */
      }
    }
  }

  private leak(bytes: number): void {
    const room = MAX_LEAK_MB * MB - this.leakedBytes;
    const n = Math.floor(Math.min(bytes, room));
    if (n <= 0) return;
    // allocUnsafe skips zeroing, so touch every page or RSS would not grow.
    const b = Buffer.allocUnsafe(n);
    for (let p = 0; p < n; p += PAGE_BYTES) b[p] = 1;
    this.leaked.push(b);
    this.leakedBytes += n;
  }
}
