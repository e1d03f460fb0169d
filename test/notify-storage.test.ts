import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseMatcher } from "../src/core/index.js";
import { describeOutboxStoreContract } from "../src/notify/outbox-store-contract.js";
import {
  createChannelRefStore,
  createOutboxStore,
  createSilenceStore,
  type Database,
} from "../src/storage/index.js";
import { backends, dispose } from "./support/databases.js";

for (const backend of backends) {
  describe.skipIf(!backend.available)(`notify storage on ${backend.name}`, () => {
    const opened: Database[] = [];
    afterAll(async () => {
      for (const d of opened) await dispose(d);
    });
    describeOutboxStoreContract(backend.name, async () => {
      const d = await backend.open();
      opened.push(d);
      return createOutboxStore(d.db, d.dialect);
    });

    describe("silences and channel refs", () => {
      let d: Database;
      beforeEach(async () => {
        d = await backend.open();
      });
      afterEach(async () => {
        await dispose(d);
      });

      it("stores silences, lists current ones and expires them once", async () => {
        const silences = createSilenceStore(d.db);
        const m = parseMatcher('service=~"api|web"');
        if (m.status !== "ok") throw new Error(m.error);
        await silences.insert(
          {
            id: "sil_1",
            matchers: [m.value],
            startsAt: 1000,
            endsAt: 5000,
            createdBy: "user:a",
            comment: "deploy",
          },
          900,
        );
        await silences.insert(
          {
            id: "sil_2",
            matchers: [m.value],
            startsAt: 1000,
            endsAt: 2000,
            createdBy: "user:a",
            comment: "old",
          },
          900,
        );
        expect((await silences.list(3000, 0)).map((s) => s.id)).toEqual(["sil_1"]);
        expect((await silences.list(3000, 5000)).map((s) => s.id).sort()).toEqual(["sil_1", "sil_2"]);
        expect((await silences.get("sil_1"))?.matchers).toEqual([m.value]);
        expect(await silences.expire("sil_1", 3000)).toBe(true);
        expect(await silences.expire("sil_1", 3500)).toBe(false);
        expect((await silences.get("sil_1"))?.endsAt).toBe(3000);
      });

      it("remembers one vendor reference per channel and incident", async () => {
        const refs = createChannelRefStore(d.db, () => 1);
        expect(await refs.get("jira", "inc_1")).toBeUndefined();
        await refs.set("jira", "inc_1", "OPS-1");
        await refs.set("jira", "inc_1", "OPS-2");
        await refs.set("opsgenie", "inc_1", "x");
        expect(await refs.get("jira", "inc_1")).toBe("OPS-2");
      });
    });
  });
}
