import { dirname } from "node:path";
import { createDocumentClient, type StaticCredentials } from "../../../handler/store/aws";
import { configWith } from "../../../handler/config";
import type { DocumentClient } from "../../../handler/store/document-client";
import { parseAmzDate, signatureProblem, startSigV4Endpoint, type SigV4Endpoint, type SigV4EndpointOptions } from "../../support/sigv4-endpoint";

const REGION = "eu-west-2";
const KEYS: SigV4EndpointOptions["keys"] = {
  AKIDSIGNINGTEST: { secretAccessKey: "signing-test-secret" },
  AKIDROTATEDTEST: { secretAccessKey: "rotated-test-secret" },
  ASIASESSIONTEST: { secretAccessKey: "session-test-secret", sessionToken: "token-of-the-role" },
};
const key = (accessKeyId: string): StaticCredentials => ({ accessKeyId, ...KEYS[accessKeyId]! });

describe("the SigV4 check of the test endpoint", () => {
  it("accepts AWS's published example signature (IAM ListUsers) and refuses it changed or stale", () => {
    // docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html (example values)
    const example = {
      method: "GET",
      path: "/?Action=ListUsers&Version=2010-05-08",
      body: Buffer.alloc(0),
      headers: {
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        host: "iam.amazonaws.com",
        "x-amz-date": "20150830T123600Z",
      },
    };
    const options = { region: "us-east-1", service: "iam", keys: { AKIDEXAMPLE: { secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } } };
    const signedAt = parseAmzDate("20150830T123600Z");
    expect(signatureProblem(example, options, signedAt)).toBe("");
    expect(signatureProblem({ ...example, path: "/?Action=ListUsers&Version=2010-05-09" }, options, signedAt)).toBe("signature does not match");
    expect(signatureProblem(example, options, signedAt + 16 * 60 * 1000)).toMatch(/^Signature expired/);
    expect(signatureProblem({ ...example, headers: { ...example.headers, "x-amz-target": "x" } }, options, signedAt)).toBe("not signed: x-amz-target");
  });
});

describe("handler/aws: DynamoDB requests carry valid SigV4 signatures (one shared signer)", () => {
  let endpoint: SigV4Endpoint;
  let aheadEndpoint: SigV4Endpoint;
  const clients: DocumentClient[] = [];
  const docWith = (credentials: StaticCredentials, url = endpoint.url) => {
    const doc = createDocumentClient(configWith({ region: REGION, dynamodbEndpoint: url, tableName: "t" }), credentials);
    clients.push(doc);
    return doc;
  };
  const since = (e: SigV4Endpoint, before: number) => e.requests.slice(before);
  beforeAll(async () => {
    endpoint = await startSigV4Endpoint({ region: REGION, keys: KEYS });
    aheadEndpoint = await startSigV4Endpoint({ region: REGION, keys: KEYS, clockOffsetMs: 60 * 60 * 1000 });
  });
  afterAll(async () => {
    for (const doc of clients) doc.destroy();
    await endpoint.stop();
    await aheadEndpoint.stop();
  });

  it("signs every request of every operation, the second and later ones included, with one signer", async () => {
    const doc = docWith(key("AKIDSIGNINGTEST"));
    const before = endpoint.requests.length;
    for (let round = 0; round < 3; round++) {
      await doc.get({ TableName: "t", Key: { pk: round, sk: "a" } });
      await doc.put({ TableName: "t", Item: { pk: round, sk: "a", text: "héllo wörld  with  spaces" } });
      await doc.update({ TableName: "t", Key: { pk: round, sk: "a" }, UpdateExpression: "ADD c :one", ExpressionAttributeValues: { ":one": 1 } });
    }
    const seen = since(endpoint, before);
    expect(seen).toHaveLength(9);
    expect(seen.filter((r) => !r.valid)).toEqual([]);
    expect(new Set(seen.map((r) => r.target))).toEqual(new Set(["DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem", "DynamoDB_20120810.UpdateItem"]));
    expect(seen[0]!.signedHeaders).toEqual(expect.arrayContaining(["content-type", "host", "x-amz-date", "x-amz-target"]));
    expect(await doc.client.config.signer()).toBe(await doc.client.config.signer());
  });

  it("signs and sends the session token of temporary credentials", async () => {
    const doc = docWith(key("ASIASESSIONTEST"));
    const before = endpoint.requests.length;
    await doc.get({ TableName: "t", Key: { pk: 1, sk: "a" } });
    await doc.get({ TableName: "t", Key: { pk: 2, sk: "a" } });
    const seen = since(endpoint, before);
    expect(seen.map((r) => r.reason)).toEqual(["", ""]);
    expect(seen[0]!.signedHeaders).toContain("x-amz-security-token");
  });

  it("signs with the client's current credentials when they are replaced", async () => {
    const doc = docWith(key("AKIDSIGNINGTEST"));
    const before = endpoint.requests.length;
    await doc.get({ TableName: "t", Key: { pk: 1, sk: "a" } });
    doc.client.config.credentials = () => Promise.resolve(key("AKIDROTATEDTEST"));
    await doc.get({ TableName: "t", Key: { pk: 1, sk: "a" } });
    expect(since(endpoint, before).map((r) => [r.accessKeyId, r.valid])).toEqual([
      ["AKIDSIGNINGTEST", true],
      ["AKIDROTATEDTEST", true],
    ]);
  });

  it("corrects its clock from the endpoint's answer when the endpoint's clock is an hour ahead", async () => {
    const doc = docWith(key("AKIDSIGNINGTEST"), aheadEndpoint.url);
    const before = aheadEndpoint.requests.length;
    await doc.get({ TableName: "t", Key: { pk: 1, sk: "a" } });
    const [expired, retried, ...rest] = since(aheadEndpoint, before);
    expect(rest).toEqual([]);
    expect(expired!.reason).toMatch(/^Signature expired/);
    expect(retried!.valid).toBe(true);
    expect(parseAmzDate(retried!.amzDate) - parseAmzDate(expired!.amzDate)).toBeGreaterThan(59 * 60 * 1000);
  });

  it("is refused with a wrong secret (the endpoint's check can fail)", async () => {
    const doc = docWith({ accessKeyId: "AKIDSIGNINGTEST", secretAccessKey: "not-the-secret" });
    await expect(doc.get({ TableName: "t", Key: { pk: 1, sk: "a" } })).rejects.toMatchObject({ name: "InvalidSignatureException" });
    expect(endpoint.requests.at(-1)).toMatchObject({ valid: false, reason: "signature does not match" });
  });

  it("uses the SDK's own copy of @smithy/signature-v4 (one copy in the bundle)", () => {
    const sdkCore = dirname(require.resolve("@aws-sdk/core", { paths: [dirname(require.resolve("@aws-sdk/client-dynamodb"))] }));
    expect(require.resolve("@smithy/signature-v4")).toBe(require.resolve("@smithy/signature-v4", { paths: [sdkCore] }));
  });
});
