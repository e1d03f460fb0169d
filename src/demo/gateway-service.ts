import type { Reply, RequestInfo } from "./http-kit.js";
import { upstreamProblem } from "./http-kit.js";
import type { ServiceFactory } from "./service-runtime.js";

/** The front door: public /api routes, each forwarded to one instance of the service behind it. */
export const gatewayService: ServiceFactory<"gateway"> = (rt) => {
  const forward =
    (service: string, path: (req: RequestInfo) => string) =>
    async (req: RequestInfo): Promise<Reply> => {
      const res = await rt.upstream.call(req.ctx, service, req.method, path(req), req.body);
      if (res.status === "error") return upstreamProblem(res.error);
      return { status: res.value.status, body: res.value.body };
    };
  const enc = encodeURIComponent;
  return {
    routes: (r) => {
      r.on(
        "GET",
        "/api/catalog",
        forward("catalog", () => "/products"),
      )
        .on(
          "GET",
          "/api/catalog/:id",
          forward("catalog", (q) => `/products/${enc(q.params["id"]!)}`),
        )
        .on(
          "GET",
          "/api/cart/:user",
          forward("cart", (q) => `/carts/${enc(q.params["user"]!)}`),
        )
        .on(
          "POST",
          "/api/cart/:user/items",
          forward("cart", (q) => `/carts/${enc(q.params["user"]!)}/items`),
        )
        .on(
          "DELETE",
          "/api/cart/:user",
          forward("cart", (q) => `/carts/${enc(q.params["user"]!)}`),
        )
        .on(
          "POST",
          "/api/checkout",
          forward("orders", () => "/orders"),
        )
        .on(
          "GET",
          "/api/orders/:id",
          forward("orders", (q) => `/orders/${enc(q.params["id"]!)}`),
        );
    },
  };
};
