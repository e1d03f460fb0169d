import { describe, expect, it } from "vitest";
import { ManualClock } from "../core/index.js";
import { Backoff } from "./backoff.js";
import {
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_RESET_AFTER_MS,
} from "./config.js";

describe("Backoff", () => {
  it("lets the first attempt through, then waits 10 s doubling up to 5 min", () => {
    const clock = new ManualClock();
    const b = new Backoff();
    expect(b.heldUntil("a", clock.now())).toBeUndefined();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      b.attempted("a", clock.now());
      const until = b.heldUntil("a", clock.now()) as number;
      delays.push(until - clock.now());
      clock.set(until - 1);
      expect(b.heldUntil("a", clock.now())).toBe(until);
      clock.set(until);
      expect(b.heldUntil("a", clock.now())).toBeUndefined();
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect(DEFAULT_BACKOFF_INITIAL_MS).toBe(10_000);
    expect(DEFAULT_BACKOFF_MAX_MS).toBe(300_000);
  });

  it("keys are independent", () => {
    const b = new Backoff();
    b.attempted("a", 0);
    expect(b.heldUntil("a", 0)).toBe(10_000);
    expect(b.heldUntil("b", 0)).toBeUndefined();
  });

  it("resets after 10 min continuously healthy, not after a shorter healthy stretch", () => {
    const clock = new ManualClock();
    const b = new Backoff();
    for (let i = 0; i < 3; i++) b.attempted("a", clock.now());
    expect(b.delay("a", clock.now())).toBe(40_000);

    b.healthy("a", clock.now());
    clock.advance(DEFAULT_BACKOFF_RESET_AFTER_MS - 1);
    b.unhealthy("a", clock.now());
    expect(b.delay("a", clock.now())).toBe(40_000);

    b.healthy("a", clock.now());
    clock.advance(DEFAULT_BACKOFF_RESET_AFTER_MS / 2);
    b.healthy("a", clock.now()); // a repeat does not restart the stretch
    clock.advance(DEFAULT_BACKOFF_RESET_AFTER_MS / 2);
    b.unhealthy("a", clock.now());
    expect(b.delay("a", clock.now())).toBe(0);
    expect(b.heldUntil("a", clock.now())).toBeUndefined();
    b.attempted("a", clock.now());
    expect(b.delay("a", clock.now())).toBe(10_000);
  });

  it("takes its limits from options", () => {
    const b = new Backoff({ initialMs: 1_000, maxMs: 3_000, resetAfterMs: 5_000 });
    b.attempted("a", 0);
    b.attempted("a", 0);
    b.attempted("a", 0);
    expect(b.delay("a", 0)).toBe(3_000);
    b.healthy("a", 0);
    expect(b.delay("a", 5_000)).toBe(0);
  });
});
