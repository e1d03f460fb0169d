import { describe, expect, it } from "vitest";
import { historyRecordSchema, serviceGraphSchema } from "./schemas.js";

describe("edge schemas", () => {
  it("accepts a graph with and without rates and rejects negative rates or empty names", () => {
    expect(
      serviceGraphSchema.safeParse({
        edges: [
          { caller: "a", callee: "b", rate: 3 },
          { caller: "b", callee: "c" },
        ],
      }).success,
    ).toBe(true);
    expect(serviceGraphSchema.safeParse({ edges: [{ caller: "a", callee: "b", rate: -1 }] }).success).toBe(
      false,
    );
    expect(serviceGraphSchema.safeParse({ edges: [{ caller: "", callee: "b" }] }).success).toBe(false);
  });

  it("requires a confirmed service on a history record", () => {
    expect(historyRecordSchema.safeParse({ signature: ["a:cpu"], confirmedService: "a" }).success).toBe(true);
    expect(historyRecordSchema.safeParse({ signature: ["a:cpu"] }).success).toBe(false);
  });
});
