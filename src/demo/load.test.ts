import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../test/support/ports.js";
import { LoadGenerator, percentile } from "./load.js";

describe("percentile", () => {
  it("is the nearest rank", () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(xs, 0.5)).toBe(5);
    expect(percentile(xs, 0.9)).toBe(9);
    expect(percentile(xs, 0.99)).toBe(10);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe("LoadGenerator against a stand-in gateway", () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on("end", () => {
        const status =
          req.url === "/api/checkout"
            ? 503
            : req.url?.startsWith("/api/cart/") && req.method === "GET"
              ? 404
              : 200;
        res.writeHead(status, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("fills a cart before checking it out, and sorts answers into ok, rejected and errors", async () => {
    seen.length = 0;
    const load = new LoadGenerator({ gatewayUrl: url, users: 1, random: () => 0 });
    await load.once("checkout");
    await load.once("checkout");
    await load.once("view_cart");
    expect(seen).toEqual(["POST /api/cart/shopper-0/items", "POST /api/checkout", "GET /api/cart/shopper-0"]);
    const s = load.snapshot();
    expect(s).toMatchObject({
      sent: 3,
      ok: 1,
      rejected: 1,
      errors: 1,
      byStatus: { "200": 1, "503": 1, "404": 1 },
    });
    expect(s.byAction.checkout).toEqual({ sent: 1, ok: 0, rejected: 0, errors: 1 });
  });

  it("counts refused connections as errors", async () => {
    const dead = new LoadGenerator({ gatewayUrl: "http://127.0.0.1:1", users: 1 });
    await dead.once("browse");
    expect(dead.snapshot()).toMatchObject({ sent: 1, errors: 1, byStatus: { connection_error: 1 } });
  });

  it("runs at a rate until stopped, and sends nothing after", async () => {
    const load = new LoadGenerator({ gatewayUrl: url, ratePerS: 50 });
    load.start();
    await waitFor("some requests", () => load.snapshot().sent >= 10);
    const s = await load.stop();
    expect(s.inFlight).toBe(0);
    expect(s.sent).toBe(s.ok + s.rejected + s.errors);
    await new Promise((r) => setTimeout(r, 200));
    expect(load.snapshot().sent).toBe(s.sent);
  });

  it("refuses a rate that is not positive and a mix without weight", () => {
    expect(() => new LoadGenerator({ gatewayUrl: url, ratePerS: 0 })).toThrow(RangeError);
    expect(
      () =>
        new LoadGenerator({
          gatewayUrl: url,
          mix: { browse: 0, product: 0, add_to_cart: 0, view_cart: 0, checkout: 0 },
        }),
    ).toThrow(RangeError);
  });
});
