import type { ShopService } from "./config.js";
import { cartService } from "./cart-service.js";
import { catalogService } from "./catalog-service.js";
import { gatewayService } from "./gateway-service.js";
import { ordersService } from "./orders-service.js";
import { paymentsService } from "./payments-service.js";
import type { ServiceFactory } from "./service-runtime.js";
import { storeService } from "./store-service.js";

export const SERVICE_FACTORIES: { [S in ShopService]: ServiceFactory<S> } = {
  gateway: gatewayService,
  catalog: catalogService,
  cart: cartService,
  orders: ordersService,
  payments: paymentsService,
  store: storeService,
};
