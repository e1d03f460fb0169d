import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { concatTables, parseNumericCsv, tableToFrame } from "./csv-frame.js";
import { explainRanking } from "./explain.js";
import { rankRootCauses } from "./rank.js";

// Real fault-injection cases (../shared/rca beside the repository); not part of the repository.
const DATA_DIR = fileURLToPath(new URL("../../../shared/rca/sock-shop/", import.meta.url));
const CASES = ["carts-cpu/1", "payment-mem/2", "user-cpu/3"];
const available = CASES.every((c) => existsSync(`${DATA_DIR}${c}/normal.csv`));
if (!available) console.warn(`skipping Sock Shop RCA cases: ${DATA_DIR} not found`);

function load(c: string) {
  const normal = parseNumericCsv(readFileSync(`${DATA_DIR}${c}/normal.csv`, "utf8"));
  const anomalous = parseNumericCsv(readFileSync(`${DATA_DIR}${c}/anomalous.csv`, "utf8"));
  const table = concatTables(normal, anomalous);
  // One continuous time axis: the two recordings are days apart and the gap must not give the onset away.
  const time = table.columns[table.header.indexOf("time")]!;
  const t0 = time[0]!;
  for (let i = 0; i < table.rows; i++) time[i] = t0 + i;
  return { frame: tableToFrame(table), boundary: t0 + normal.rows };
}

describe.skipIf(!available)("Sock Shop fault cases", () => {
  for (const c of CASES) {
    const service = c.split("/")[0]!.replace(/-(cpu|mem)$/, "");
    it(`${c}: finds the onset and ranks ${service} first`, () => {
      const { frame, boundary } = load(c);
      const r = rankRootCauses(frame);
      expect(Math.abs(r.onset.time - boundary)).toBeLessThanOrEqual(10);
      expect(r.candidates[0]?.service).toBe(service);
      expect(explainRanking(r)).toContain(`1. ${service}`);
      const late = rankRootCauses(frame, { onsetTime: boundary + 60 });
      expect(late.candidates[0]?.service).toBe(service);
    });
  }
});
