import { describe, expect, it } from "vitest";
import { ManualClock } from "../core/index.js";
import { CircuitBreaker } from "./circuit-breaker.js";

describe("CircuitBreaker", () => {
  const opts = { failures: 3, windowMs: 60_000, cooldownMs: 30_000 };

  it("opens after N failures within the window", () => {
    const clock = new ManualClock();
    const cb = new CircuitBreaker(opts);
    cb.failure("db", clock.now());
    clock.advance(10_000);
    cb.failure("db", clock.now());
    expect(cb.state("db", clock.now())).toBe("closed");
    expect(cb.acquire("db", clock.now())).toEqual({ ok: true });
    cb.failure("db", clock.now());
    expect(cb.state("db", clock.now())).toBe("open");
    expect(cb.acquire("db", clock.now())).toEqual({ ok: false, retryAt: clock.now() + 30_000 });
    expect(cb.state("other", clock.now())).toBe("closed");
  });

  it("forgets failures older than the window", () => {
    const clock = new ManualClock();
    const cb = new CircuitBreaker(opts);
    cb.failure("db", clock.now());
    cb.failure("db", clock.now());
    clock.advance(60_000);
    cb.failure("db", clock.now());
    expect(cb.state("db", clock.now())).toBe("closed");
  });

  it("half-opens after the cooldown and lets exactly one trial through; success closes", () => {
    const clock = new ManualClock();
    const cb = new CircuitBreaker(opts);
    for (let i = 0; i < 3; i++) cb.failure("db", clock.now());
    clock.advance(30_000);
    expect(cb.state("db", clock.now())).toBe("half-open");
    expect(cb.acquire("db", clock.now()).ok).toBe(true);
    expect(cb.acquire("db", clock.now()).ok).toBe(false);
    cb.success("db", clock.now());
    expect(cb.state("db", clock.now())).toBe("closed");
    expect(cb.acquire("db", clock.now()).ok).toBe(true);
    cb.failure("db", clock.now());
    expect(cb.state("db", clock.now())).toBe("closed");
  });

  it("a failed trial re-opens for another cooldown", () => {
    const clock = new ManualClock();
    const cb = new CircuitBreaker(opts);
    for (let i = 0; i < 3; i++) cb.failure("db", clock.now());
    clock.advance(30_000);
    expect(cb.acquire("db", clock.now()).ok).toBe(true);
    cb.failure("db", clock.now());
    expect(cb.state("db", clock.now())).toBe("open");
    clock.advance(29_999);
    expect(cb.acquire("db", clock.now()).ok).toBe(false);
    clock.advance(1);
    expect(cb.acquire("db", clock.now()).ok).toBe(true);
  });

  it("a released or lost trial does not keep the breaker stuck", () => {
    const clock = new ManualClock();
    const cb = new CircuitBreaker(opts);
    for (let i = 0; i < 3; i++) cb.failure("db", clock.now());
    clock.advance(30_000);
    expect(cb.acquire("db", clock.now()).ok).toBe(true);
    cb.release("db");
    expect(cb.acquire("db", clock.now()).ok).toBe(true);
    // This trial never reports back: after another cooldown a new one may go.
    clock.advance(30_000);
    expect(cb.acquire("db", clock.now()).ok).toBe(true);
  });
});
