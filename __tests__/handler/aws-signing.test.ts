import { createDocumentClient } from "../../handler/aws";
import { configWith } from "../../handler/config";
import type { DocumentClient } from "../../handler/document-client";
import { startSigV4Endpoint, type SigV4Endpoint } from "../support/sigv4-endpoint";

const REGION = "eu-west-2";
const KEYS = { AKIDSIGNINGTEST: "signing-test-secret", ASIASESSIONTEST: "session-test-secret" };

describe("handler/aws: DynamoDB requests carry valid SigV4 signatures (one shared signer)", () => {
  let endpoint: SigV4Endpoint;
  const clients: DocumentClient[] = [];
  const docWith = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => {
    const doc = createDocumentClient(configWith({ region: REGION, dynamodbEndpoint: endpoint.url, tableName: "t" }), credentials);
    clients.push(doc);
    return doc;
  };
  beforeAll(async () => {
    endpoint = await startSigV4Endpoint(KEYS, REGION);
  });
  afterAll(async () => {
    for (const doc of clients) doc.destroy();
    await endpoint.stop();
  });

  it("signs every request of every operation, the second and later ones included", async () => {
    const doc = docWith({ accessKeyId: "AKIDSIGNINGTEST", secretAccessKey: KEYS.AKIDSIGNINGTEST });
    const before = endpoint.requests.length;
    for (let round = 0; round < 3; round++) {
      await doc.get({ TableName: "t", Key: { pk: round, sk: "a" } });
      await doc.put({ TableName: "t", Item: { pk: round, sk: "a", text: "héllo wörld  with  spaces" } });
      await doc.update({ TableName: "t", Key: { pk: round, sk: "a" }, UpdateExpression: "ADD c :one", ExpressionAttributeValues: { ":one": 1 } });
    }
    const seen = endpoint.requests.slice(before);
    expect(seen).toHaveLength(9);
    expect(seen.filter((r) => !r.valid)).toEqual([]);
    expect(new Set(seen.map((r) => r.target))).toEqual(new Set(["DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem", "DynamoDB_20120810.UpdateItem"]));
    expect(await doc.client.config.signer()).toBe(await doc.client.config.signer());
  });

  it("signs the session token of temporary credentials", async () => {
    const doc = docWith({ accessKeyId: "ASIASESSIONTEST", secretAccessKey: KEYS.ASIASESSIONTEST, sessionToken: "token-of-the-role" });
    const before = endpoint.requests.length;
    await doc.get({ TableName: "t", Key: { pk: 1, sk: "a" } });
    await doc.get({ TableName: "t", Key: { pk: 2, sk: "a" } });
    const seen = endpoint.requests.slice(before);
    expect(seen.map((r) => r.valid)).toEqual([true, true]);
    expect(seen[0]!.signedHeaders).toContain("x-amz-security-token");
  });

  it("is refused with a wrong secret (the endpoint's check can fail)", async () => {
    const doc = docWith({ accessKeyId: "AKIDSIGNINGTEST", secretAccessKey: "not-the-secret" });
    await expect(doc.get({ TableName: "t", Key: { pk: 1, sk: "a" } })).rejects.toMatchObject({ name: "InvalidSignatureException" });
    expect(endpoint.requests.at(-1)).toMatchObject({ valid: false, reason: "signature does not match" });
  });
});
