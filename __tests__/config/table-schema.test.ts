import { createTableInput, keyAttributes, SESSIONS_TABLE_SCHEMA } from "../../config/table-schema";

describe("table-schema", () => {
  it("defines each key attribute once, with its type", () => {
    const names = keyAttributes().map((a) => `${a.name}:${a.type}`);
    expect(names).toEqual(["pk:N", "sk:S", "model_name:S", "session_id:S", "is_active:N", "last_message_ts:N"]);
  });

  it("builds a CreateTable request with both indexes projecting ALL", () => {
    const input = createTableInput("t");
    expect(input.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(input.GlobalSecondaryIndexes.map((i) => [i.IndexName, i.Projection.ProjectionType])).toEqual([
      ["model_index", "ALL"],
      ["active_sessions_index", "ALL"],
    ]);
    expect(SESSIONS_TABLE_SCHEMA.ttlAttribute).toBe("ttl");
  });
});
