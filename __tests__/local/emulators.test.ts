import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DocumentClient } from "../../handler/store/document-client";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { DEFAULT_TABLE_NAME, MODEL_INDEX, ACTIVE_SESSIONS_INDEX } from "../../config/table-schema";

function clients(emulators: RunningEmulators) {
  const common = { region: emulators.region, credentials: { ...emulators.credentials } };
  const dynamo = new DynamoDBClient({ ...common, endpoint: emulators.dynamodbEndpoint });
  const s3 = new S3Client({ ...common, endpoint: emulators.s3Endpoint, forcePathStyle: true });
  return {
    dynamo,
    doc: new DocumentClient({ client: dynamo }),
    s3,
    destroy: () => {
      dynamo.destroy();
      s3.destroy();
    },
  };
}

describe("local/emulators", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "emulators-test-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("creates the sessions table from the shared schema and the bucket", async () => {
    const emulators = await startEmulators();
    const c = clients(emulators);
    try {
      const { Table } = await c.dynamo.send(new DescribeTableCommand({ TableName: emulators.tableName }));
      expect(emulators.tableName).toBe(DEFAULT_TABLE_NAME);
      expect(Table?.TableStatus).toBe("ACTIVE");
      expect(Table?.KeySchema).toEqual([
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ]);
      expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([ACTIVE_SESSIONS_INDEX, MODEL_INDEX].sort());
      await c.s3.send(new PutObjectCommand({ Bucket: emulators.bucketName, Key: "k", Body: "v" }));
    } finally {
      c.destroy();
      await emulators.stop();
    }
  });

  it("keeps items and objects in dataDir between runs", async () => {
    const first = await startEmulators({ dataDir });
    let c = clients(first);
    try {
      await c.doc.put({ TableName: first.tableName, Item: { pk: 42, sk: "SESSION#a", model_name: "m" } });
      await c.s3.send(new PutObjectCommand({ Bucket: first.bucketName, Key: "archives/42/a.json", Body: '{"x":1}' }));
    } finally {
      c.destroy();
      await first.stop();
    }

    const second = await startEmulators({ dataDir });
    c = clients(second);
    try {
      const { Item } = await c.doc.get({ TableName: second.tableName, Key: { pk: 42, sk: "SESSION#a" } });
      const object = await c.s3.send(new GetObjectCommand({ Bucket: second.bucketName, Key: "archives/42/a.json" }));
      expect(Item).toEqual({ pk: 42, sk: "SESSION#a", model_name: "m" });
      expect(await object.Body?.transformToString()).toBe('{"x":1}');
    } finally {
      c.destroy();
      await second.stop();
    }
    expect((await readdir(dataDir)).sort()).toEqual(["dynamodb", "s3"]);
  });

  it("gives parallel starts different ports", async () => {
    const [a, b] = await Promise.all([startEmulators(), startEmulators()]);
    try {
      const ports = [a.dynamodbEndpoint, a.s3Endpoint, b.dynamodbEndpoint, b.s3Endpoint].map((u) => new URL(u).port);
      expect(new Set(ports).size).toBe(4);
      expect(a.dynamodbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("exposes the environment the handler reads", async () => {
    const emulators = await startEmulators({ tableName: "sessions-test", bucketName: "bucket-test", region: "eu-west-1" });
    try {
      expect(emulators.env).toEqual({
        AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodbEndpoint,
        AWS_ENDPOINT_URL_S3: emulators.s3Endpoint,
        S3_FORCE_PATH_STYLE: "true",
        AWS_REGION: "eu-west-1",
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        DYNAMODB_TABLE: "sessions-test",
        S3_BUCKET_NAME: "bucket-test",
      });
    } finally {
      await emulators.stop();
    }
  });

  it("stops idempotently and refuses connections afterwards", async () => {
    const emulators = await startEmulators();
    const c = clients(emulators);
    await c.doc.put({ TableName: emulators.tableName, Item: { pk: 1, sk: "x" } });
    c.destroy();

    await emulators.stop();
    await emulators.stop();

    await expect(fetch(emulators.dynamodbEndpoint)).rejects.toThrow();
    await expect(fetch(emulators.s3Endpoint)).rejects.toThrow();
  });
});
