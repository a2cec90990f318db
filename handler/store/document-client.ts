import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type BatchWriteItemCommandInput,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  type GetItemCommandInput,
  type PutItemCommandInput,
  type QueryCommandInput,
  type ScanCommandInput,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall, type NativeAttributeValue } from "@aws-sdk/util-dynamodb";

/**
 * DynamoDB with plain JavaScript values in place of AttributeValue maps: the seven operations
 * the bot and its scripts use, each one low-level command on a DynamoDBClient.
 *
 * Why not lib-dynamodb's DynamoDBDocumentClient: its commands resolve the client's whole
 * middleware stack again on every request (they cannot use the SDK's `cacheMiddleware`, whose
 * cached handler they would bind to their first command). The client given here should be
 * built with `cacheMiddleware: true` (createDocumentClient does): a chat message makes 8
 * requests, and resolving the stack once per command class instead of once per request cut
 * the bench's CPU time per chat message by about a tenth.
 *
 * Middleware added to the client after its first request is not seen by cached handlers: add
 * and remove it through {@link DocumentClient.middlewareStack}, which resolves them again.
 */

/** An item, key or set of expression values as plain JavaScript values. */
export type Item = Record<string, NativeAttributeValue>;

type WithItems<T, K extends keyof T> = Omit<T, K> & { [P in K]?: Item };

export type GetInput = WithItems<GetItemCommandInput, "Key"> & { readonly Key: Item };
/** put() and delete() return nothing, so they take no ReturnValues (it would be dropped). */
export type PutInput = WithItems<Omit<PutItemCommandInput, "ReturnValues">, "Item" | "ExpressionAttributeValues"> & { readonly Item: Item };
export type UpdateInput = WithItems<UpdateItemCommandInput, "Key" | "ExpressionAttributeValues"> & { readonly Key: Item };
export type DeleteInput = WithItems<Omit<DeleteItemCommandInput, "ReturnValues">, "Key" | "ExpressionAttributeValues"> & { readonly Key: Item };
export type QueryInput = WithItems<QueryCommandInput, "ExpressionAttributeValues" | "ExclusiveStartKey">;
export type ScanInput = WithItems<ScanCommandInput, "ExpressionAttributeValues" | "ExclusiveStartKey">;

/** One write of a BatchWriteItem request: a put or a delete. */
export type WriteRequest = { readonly PutRequest: { readonly Item: Item } } | { readonly DeleteRequest: { readonly Key: Item } };
export type BatchWriteInput = Omit<BatchWriteItemCommandInput, "RequestItems"> & {
  readonly RequestItems: Record<string, readonly WriteRequest[]>;
};

/** A page of a Query or Scan. */
export interface ItemPage {
  readonly Items: Item[];
  readonly LastEvaluatedKey?: Item;
}

/** The middleware operations the tests and the benchmark use (counting, fault injection). */
export type DocumentMiddlewareStack = Pick<DynamoDBClient["middlewareStack"], "add" | "remove">;

/** Options of {@link DocumentClient}. */
export interface DocumentClientOptions {
  /** The client the requests go through; build it with `cacheMiddleware: true`. */
  readonly client: DynamoDBClient;
}

/** Marshalling options: undefined attributes are left out, as JSON.stringify would. */
const MARSHALL = { removeUndefinedValues: true } as const;

const toAttributes = (item: Item): Record<string, AttributeValue> => marshall(item, MARSHALL);
const maybeAttributes = (item: Item | undefined) => (item === undefined ? undefined : toAttributes(item));
const maybeItem = (attributes: Record<string, AttributeValue> | undefined): Item | undefined =>
  attributes === undefined ? undefined : unmarshall(attributes);

/** A Query or Scan output with plain items. */
const toPage = (output: { Items?: Record<string, AttributeValue>[]; LastEvaluatedKey?: Record<string, AttributeValue> }): ItemPage => ({
  Items: (output.Items ?? []).map((item) => unmarshall(item)),
  LastEvaluatedKey: maybeItem(output.LastEvaluatedKey),
});

/** See the module comment. */
export class DocumentClient {
  readonly client: DynamoDBClient;
  readonly middlewareStack: DocumentMiddlewareStack;

  constructor(options: DocumentClientOptions) {
    this.client = options.client;
    const stack = this.client.middlewareStack;
    this.middlewareStack = {
      add: ((middleware: never, addOptions: never) => {
        stack.add(middleware, addOptions);
        this.resolveAgain();
      }) as DocumentMiddlewareStack["add"],
      remove: (toRemove) => {
        const removed = stack.remove(toRemove);
        this.resolveAgain();
        return removed;
      },
    };
  }

  /**
   * BatchGetItem of up to 100 keys of one table, strongly consistent, in no particular order;
   * keys DynamoDB leaves unprocessed (throttling) are asked again, up to three times in all.
   */
  async batchGet(table: string, keys: readonly Item[]): Promise<Item[]> {
    const items: Item[] = [];
    let pending: Record<string, AttributeValue>[] = keys.map(toAttributes);
    for (let round = 0; round < 3 && pending.length > 0; round++) {
      const output = await this.client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }));
      items.push(...(output.Responses?.[table] ?? []).map((item) => unmarshall(item) as Item));
      pending = output.UnprocessedKeys?.[table]?.Keys ?? [];
    }
    if (pending.length > 0) throw Object.assign(new Error("BatchGetItem left keys unprocessed"), { name: "ProvisionedThroughputExceededException" });
    return items;
  }

  async get(input: GetInput): Promise<{ Item?: Item }> {
    const output = await this.client.send(new GetItemCommand({ ...input, Key: toAttributes(input.Key) }));
    return { Item: maybeItem(output.Item) };
  }

  async put(input: PutInput): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        ...input,
        Item: toAttributes(input.Item),
        ExpressionAttributeValues: maybeAttributes(input.ExpressionAttributeValues),
      }),
    );
  }

  /** UpdateItem; `Attributes` holds what `ReturnValues` asked for. */
  async update(input: UpdateInput): Promise<{ Attributes?: Item }> {
    const output = await this.client.send(
      new UpdateItemCommand({
        ...input,
        Key: toAttributes(input.Key),
        ExpressionAttributeValues: maybeAttributes(input.ExpressionAttributeValues),
      }),
    );
    return { Attributes: maybeItem(output.Attributes) };
  }

  async delete(input: DeleteInput): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({
        ...input,
        Key: toAttributes(input.Key),
        ExpressionAttributeValues: maybeAttributes(input.ExpressionAttributeValues),
      }),
    );
  }

  async query(input: QueryInput): Promise<ItemPage> {
    const output = await this.client.send(
      new QueryCommand({
        ...input,
        ExpressionAttributeValues: maybeAttributes(input.ExpressionAttributeValues),
        ExclusiveStartKey: maybeAttributes(input.ExclusiveStartKey),
      }),
    );
    return toPage(output);
  }

  async scan(input: ScanInput): Promise<ItemPage> {
    const output = await this.client.send(
      new ScanCommand({
        ...input,
        ExpressionAttributeValues: maybeAttributes(input.ExpressionAttributeValues),
        ExclusiveStartKey: maybeAttributes(input.ExclusiveStartKey),
      }),
    );
    return toPage(output);
  }

  /** BatchWriteItem; `UnprocessedItems` are what DynamoDB did not write, per table. */
  async batchWrite(input: BatchWriteInput): Promise<{ UnprocessedItems: Record<string, WriteRequest[]> }> {
    const requestItems = Object.fromEntries(
      Object.entries(input.RequestItems).map(([table, writes]) => [
        table,
        writes.map((w) => ("PutRequest" in w ? { PutRequest: { Item: toAttributes(w.PutRequest.Item) } } : { DeleteRequest: { Key: toAttributes(w.DeleteRequest.Key) } })),
      ]),
    );
    const output = await this.client.send(new BatchWriteItemCommand({ ...input, RequestItems: requestItems }));
    const unprocessed = Object.fromEntries(
      Object.entries(output.UnprocessedItems ?? {}).map(([table, writes]) => [
        table,
        writes.flatMap((w): WriteRequest[] => {
          if (w.PutRequest?.Item) return [{ PutRequest: { Item: unmarshall(w.PutRequest.Item) } }];
          if (w.DeleteRequest?.Key) return [{ DeleteRequest: { Key: unmarshall(w.DeleteRequest.Key) } }];
          return [];
        }),
      ]),
    );
    return { UnprocessedItems: unprocessed };
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }

  /**
   * Drops the handlers the SDK cached per command class (cacheMiddleware), so the next request
   * of each class resolves the changed stack. The SDK keeps them in the client's `handlers`
   * field and drops them the same way in its own send() and destroy(); a test checks that a
   * middleware added after a request runs on the next one.
   */
  private resolveAgain(): void {
    delete (this.client as unknown as { handlers?: unknown }).handlers;
  }
}
