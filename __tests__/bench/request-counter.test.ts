import { createDocumentClient } from "../../handler/store/aws";
import { configWith } from "../../handler/config";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { createRequestCounter, operationName } from "../../bench/request-counter";

describe("bench/request-counter", () => {
  it("names operations without the Command suffix", () => {
    expect(operationName("GetItemCommand")).toBe("GetItem");
    expect(operationName("PutObjectCommand")).toBe("PutObject");
    expect(operationName("Command")).toBe("Command");
    expect(operationName(undefined)).toBe("unknown");
  });

  describe("on a real client against dynalite", () => {
    let emulators: RunningEmulators;
    beforeAll(async () => {
      emulators = await startEmulators();
    });
    afterAll(async () => {
      await emulators.stop();
    });

    const client = () =>
      createDocumentClient(
        configWith({ region: emulators.region, dynamodbEndpoint: emulators.dynamodbEndpoint, tableName: emulators.tableName }),
        emulators.credentials,
      );

    it("counts each command the client sends by operation, and only since the last reset", async () => {
      const doc = client();
      const counter = createRequestCounter();
      counter.attach(doc);
      const TableName = emulators.tableName;
      await doc.put({ TableName, Item: { pk: 1, sk: "X" } });
      counter.reset();
      const counts = await counter.during(async () => {
        await doc.get({ TableName, Key: { pk: 1, sk: "X" } });
        await doc.get({ TableName, Key: { pk: 1, sk: "Y" } });
        await doc.query({ TableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": 1 } });
      });
      expect(counts).toEqual({ total: 3, byOperation: { GetItem: 2, Query: 1 } });
      doc.destroy();
    });

    it("counts a client once even when attached twice, and shares one count across clients", async () => {
      const a = client();
      const b = client();
      const counter = createRequestCounter();
      counter.attach(a);
      counter.attach(a);
      counter.attach(b);
      const TableName = emulators.tableName;
      const counts = await counter.during(async () => {
        await a.get({ TableName, Key: { pk: 2, sk: "X" } });
        await b.get({ TableName, Key: { pk: 2, sk: "X" } });
      });
      expect(counts.total).toBe(2);
      a.destroy();
      b.destroy();
    });
  });
});
