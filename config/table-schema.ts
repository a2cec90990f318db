/**
 * The sessions table, declared once. The SessionsTable construct, the handler's stores,
 * local mode (dynalite) and the tests all build the table from this description, so the
 * key schema cannot drift between AWS and a developer's machine.
 */

/** A DynamoDB scalar attribute type used in keys. */
export type KeyAttributeType = "S" | "N";

/** One attribute of a key: its name and scalar type. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyAttributeType;
}

/** A global secondary index with projection ALL. */
export interface GlobalIndex {
  readonly name: string;
  readonly hashKey: KeyAttribute;
  readonly rangeKey: KeyAttribute;
}

/** Everything that defines the table's shape (not its name, which is a deploy setting). */
export interface TableSchema {
  /** Partition key: the Telegram user id. */
  readonly partitionKey: KeyAttribute;
  /** Sort key: a string that says what the item is (session, message, update mark...). */
  readonly sortKey: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndex[];
  /** Attribute holding an epoch-seconds expiry; DynamoDB's TTL deletes expired items. */
  readonly ttlAttribute: string;
}

/** Default table name (the seed's). */
export const DEFAULT_TABLE_NAME = "chatbot-sessions";

/** Name of the GSI that finds sessions by model across users. */
export const MODEL_INDEX = "model_index";
/** Name of the GSI that finds active sessions ordered by last activity. */
export const ACTIVE_SESSIONS_INDEX = "active_sessions_index";

/** The sessions table's schema (the seed's, plus a TTL attribute). */
export const SESSIONS_TABLE_SCHEMA: TableSchema = Object.freeze<TableSchema>({
  partitionKey: { name: "pk", type: "N" },
  sortKey: { name: "sk", type: "S" },
  globalIndexes: [
    { name: MODEL_INDEX, hashKey: { name: "model_name", type: "S" }, rangeKey: { name: "session_id", type: "S" } },
    {
      name: ACTIVE_SESSIONS_INDEX,
      hashKey: { name: "is_active", type: "N" },
      rangeKey: { name: "last_message_ts", type: "N" },
    },
  ],
  ttlAttribute: "ttl",
});

/** Every attribute that appears in a key of the table or an index, once each. */
export function keyAttributes(schema: TableSchema = SESSIONS_TABLE_SCHEMA): KeyAttribute[] {
  const all = [schema.partitionKey, schema.sortKey, ...schema.globalIndexes.flatMap((i) => [i.hashKey, i.rangeKey])];
  const byName = new Map<string, KeyAttribute>();
  for (const attribute of all) byName.set(attribute.name, attribute);
  return [...byName.values()];
}

/**
 * The CreateTable request for this schema, in the shape of the DynamoDB API
 * (structurally a `CreateTableCommandInput`), for emulators and tests.
 */
export function createTableInput(tableName: string, schema: TableSchema = SESSIONS_TABLE_SCHEMA) {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: keyAttributes(schema).map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: schema.partitionKey.name, KeyType: "HASH" as const },
      { AttributeName: schema.sortKey.name, KeyType: "RANGE" as const },
    ],
    GlobalSecondaryIndexes: schema.globalIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.hashKey.name, KeyType: "HASH" as const },
        { AttributeName: index.rangeKey.name, KeyType: "RANGE" as const },
      ],
      Projection: { ProjectionType: "ALL" as const },
    })),
  };
}
