import { Construct } from "constructs";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { DEFAULT_TABLE_NAME, SESSIONS_TABLE_SCHEMA, keyAttributes, type TableSchema } from "../config/table-schema";
import type { Grantable } from "./service-role";
import { patternRule, validateProps } from "./validation";

/** Props of {@link SessionsTable}. */
export interface SessionsTableProps {
  /** Table name. @default DEFAULT_TABLE_NAME ("chatbot-sessions") */
  readonly tableName?: string;
  /** Key schema, GSIs and TTL attribute. @default SESSIONS_TABLE_SCHEMA (config/table-schema.ts) */
  readonly schema?: TableSchema;
  /** Point-in-time recovery. @default true */
  readonly pointInTimeRecovery?: boolean;
}

/**
 * The DynamoDB table of live sessions, messages and update marks, built from the one schema
 * in config/table-schema.ts: on-demand billing, GSIs with projection ALL, TTL, encryption
 * and point-in-time recovery.
 */
export class SessionsTable extends Construct {
  public readonly table: DynamodbTable;
  /** The table's name. */
  public readonly tableName: string;
  /** The table's ARN. */
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: SessionsTableProps = {}) {
    super(scope, id);
    const schema = props.schema ?? SESSIONS_TABLE_SCHEMA;
    const tableName = props.tableName ?? DEFAULT_TABLE_NAME;
    validateProps("sessions table", [
      patternRule("tableName", tableName, /^[a-zA-Z0-9_.-]{3,255}$/, "3 to 255 letters, digits, '.', '_' and '-'"),
      patternRule("ttlAttribute", schema.ttlAttribute, /^[a-zA-Z0-9_.-]{1,255}$/, "an attribute name"),
    ]);

    this.table = new DynamodbTable(this, "Table", {
      name: tableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: schema.partitionKey.name,
      rangeKey: schema.sortKey.name,
      attribute: keyAttributes(schema).map((a) => ({ name: a.name, type: a.type })),
      globalSecondaryIndex: schema.globalIndexes.map((index) => ({
        name: index.name,
        hashKey: index.hashKey.name,
        rangeKey: index.rangeKey.name,
        projectionType: "ALL",
      })),
      ttl: { attributeName: schema.ttlAttribute, enabled: true },
      serverSideEncryption: { enabled: true },
      pointInTimeRecovery: { enabled: props.pointInTimeRecovery ?? true },
    });
    this.tableName = this.table.name;
    this.arn = this.table.arn;
  }

  /** Lets a grantee read and write items of this table and query its indexes (and nothing else). */
  public grantReadWrite(grantee: Grantable): void {
    grantee.grant({
      sid: "SessionsTableReadWrite",
      actions: [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:BatchWriteItem",
      ],
      resources: [this.arn, `${this.arn}/index/*`],
    });
  }
}
