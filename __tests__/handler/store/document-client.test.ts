import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { createDocumentClient } from "../../../handler/store/aws";
import { configWith } from "../../../handler/config";
import type { DocumentClient, WriteRequest } from "../../../handler/store/document-client";
import { startEmulators, type RunningEmulators } from "../../../local/emulators";

describe("handler/document-client on dynalite", () => {
  let emulators: RunningEmulators;
  let doc: DocumentClient;
  let TableName: string;
  beforeAll(async () => {
    emulators = await startEmulators();
    TableName = emulators.tableName;
    doc = createDocumentClient(
      configWith({ region: emulators.region, dynamodbEndpoint: emulators.dynamodbEndpoint, tableName: TableName }),
      emulators.credentials,
    );
  });
  afterAll(async () => {
    doc.destroy();
    await emulators.stop();
  });

  it("writes and reads plain values: strings, numbers, booleans, lists, maps; undefined attributes are left out", async () => {
    const item = { pk: 1, sk: "A", text: "héllo", n: 42.5, flag: true, list: [1, "two"], map: { nested: { deep: 1 } }, missing: undefined };
    await doc.put({ TableName, Item: item });
    const { Item } = await doc.get({ TableName, Key: { pk: 1, sk: "A" }, ConsistentRead: true });
    expect(Item).toEqual({ pk: 1, sk: "A", text: "héllo", n: 42.5, flag: true, list: [1, "two"], map: { nested: { deep: 1 } } });
    expect(Item).not.toHaveProperty("missing");
    expect((await doc.get({ TableName, Key: { pk: 1, sk: "nothing" } })).Item).toBeUndefined();
  });

  it("updates with expression values and returns what ReturnValues asks for", async () => {
    await doc.put({ TableName, Item: { pk: 2, sk: "C", count: 1 } });
    const updated = await doc.update({
      TableName,
      Key: { pk: 2, sk: "C" },
      UpdateExpression: "ADD #c :one SET label = :label",
      ExpressionAttributeNames: { "#c": "count" },
      ExpressionAttributeValues: { ":one": 1, ":label": "two" },
      ReturnValues: "ALL_NEW",
    });
    expect(updated.Attributes).toEqual({ pk: 2, sk: "C", count: 2, label: "two" });
    const quiet = await doc.update({ TableName, Key: { pk: 2, sk: "C" }, UpdateExpression: "SET label = :l", ExpressionAttributeValues: { ":l": "three" } });
    expect(quiet.Attributes).toBeUndefined();
  });

  it("passes conditions through: a failed one rejects with ConditionalCheckFailedException", async () => {
    await doc.put({ TableName, Item: { pk: 3, sk: "D" } });
    await expect(doc.put({ TableName, Item: { pk: 3, sk: "D" }, ConditionExpression: "attribute_not_exists(sk)" })).rejects.toMatchObject({
      name: "ConditionalCheckFailedException",
    });
    await expect(
      doc.delete({ TableName, Key: { pk: 3, sk: "D" }, ConditionExpression: "attribute_exists(nope)", ExpressionAttributeValues: undefined }),
    ).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    await doc.delete({ TableName, Key: { pk: 3, sk: "D" } });
    expect((await doc.get({ TableName, Key: { pk: 3, sk: "D" }, ConsistentRead: true })).Item).toBeUndefined();
  });

  it("batch-writes puts and deletes, and queries and scans page by page with plain start keys", async () => {
    const puts: WriteRequest[] = Array.from({ length: 5 }, (_, i) => ({ PutRequest: { Item: { pk: 4, sk: `M#${i}`, i } } }));
    expect((await doc.batchWrite({ RequestItems: { [TableName]: puts } })).UnprocessedItems).toEqual({});
    await doc.batchWrite({ RequestItems: { [TableName]: [{ DeleteRequest: { Key: { pk: 4, sk: "M#4" } } }] } });

    const seen: number[] = [];
    let start: Record<string, unknown> | undefined;
    let pages = 0;
    do {
      const page = await doc.query({
        TableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":pk": 4, ":p": "M#" },
        Limit: 2,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      });
      seen.push(...page.Items.map((item) => Number(item.i)));
      start = page.LastEvaluatedKey;
      pages += 1;
    } while (start);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(pages).toBeGreaterThan(1);

    const scanned = await doc.scan({ TableName, FilterExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": 4 }, ConsistentRead: true });
    expect(scanned.Items).toHaveLength(4);
  });

  it("gives each of many concurrent requests of one command class its own input and output (cached handlers)", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => i);
    await Promise.all(ids.map((i) => doc.put({ TableName, Item: { pk: 5, sk: `K#${i}`, value: i * 10 } })));
    const items = await Promise.all(ids.map((i) => doc.get({ TableName, Key: { pk: 5, sk: `K#${i}` }, ConsistentRead: true })));
    expect(items.map((r) => r.Item?.value)).toEqual(ids.map((i) => i * 10));
  });

  it("resolves each command class's middleware once (the SDK's handler cache is on)", async () => {
    await doc.get({ TableName, Key: { pk: 6, sk: "cache" } });
    const cache = (doc.client as unknown as { handlers?: WeakMap<object, unknown> }).handlers;
    expect(cache).toBeInstanceOf(WeakMap);
    expect(cache?.has(GetItemCommand)).toBe(true);
  });

  it("runs middleware added or removed after the first requests (the cached handlers are resolved again)", async () => {
    await doc.get({ TableName, Key: { pk: 6, sk: "warm" } });
    const seen: string[] = [];
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        seen.push(context.commandName ?? "?");
        return next(args);
      },
      { step: "initialize", name: "documentClientTestSpy" },
    );
    await doc.get({ TableName, Key: { pk: 6, sk: "warm" } });
    await doc.put({ TableName, Item: { pk: 6, sk: "warm" } });
    expect(seen).toEqual(["GetItemCommand", "PutItemCommand"]);

    expect(doc.middlewareStack.remove("documentClientTestSpy")).toBe(true);
    await doc.get({ TableName, Key: { pk: 6, sk: "warm" } });
    expect(seen).toHaveLength(2);
  });
});
