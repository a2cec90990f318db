import { Testing } from "cdktf";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { SESSIONS_TABLE_SCHEMA } from "../../config/table-schema";
import { SessionsTable } from "../../constructs/sessions-table";
import { onlyResource } from "../support/terraform-json";
import "../support/cdktf-setup";

describe("SessionsTable", () => {
  const json = Testing.synthScope((scope) => {
    new SessionsTable(scope, "Sessions");
  });

  it("is chatbot-sessions, on demand, keyed pk (N) / sk (S)", () => {
    expect(json).toHaveResourceWithProperties(DynamodbTable, {
      name: "chatbot-sessions",
      billing_mode: "PAY_PER_REQUEST",
      hash_key: "pk",
      range_key: "sk",
    });
    const table = onlyResource(JSON.parse(json), "aws_dynamodb_table");
    expect(table.attribute).toEqual(
      expect.arrayContaining([
        { name: "pk", type: "N" },
        { name: "sk", type: "S" },
      ]),
    );
  });

  it("has the schema's GSIs with projection ALL", () => {
    const table = onlyResource(JSON.parse(json), "aws_dynamodb_table");
    expect(table.global_secondary_index).toEqual([
      { name: "model_index", hash_key: "model_name", range_key: "session_id", projection_type: "ALL" },
      { name: "active_sessions_index", hash_key: "is_active", range_key: "last_message_ts", projection_type: "ALL" },
    ]);
    // Built from the one schema, not a copy of it.
    expect((table.global_secondary_index as unknown[]).length).toBe(SESSIONS_TABLE_SCHEMA.globalIndexes.length);
  });

  it("expires items by the ttl attribute, encrypts and keeps point-in-time recovery", () => {
    expect(json).toHaveResourceWithProperties(DynamodbTable, {
      ttl: { attribute_name: "ttl", enabled: true },
      server_side_encryption: { enabled: true },
      point_in_time_recovery: { enabled: true },
    });
  });

  it("fails if the table name is not a DynamoDB name", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new SessionsTable(scope, "Sessions", { tableName: "no spaces allowed" });
      }),
    ).toThrow(/sessions table: invalid tableName: got "no spaces allowed"/);
  });
});
