import { describeOutboxStoreContract } from "./outbox-store-contract.js";
import { InMemoryOutboxStore } from "./outbox.js";

describeOutboxStoreContract("in-memory", () => new InMemoryOutboxStore());
