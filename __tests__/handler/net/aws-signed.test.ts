import { AwsSigner, REDACTED_SECRET, redactorOf, type CredentialSource } from "../../../handler/net/aws-signed";
import { startBedrockStandIn, TEST_BEDROCK_CREDENTIALS, type BedrockStandIn } from "../../../local/stand-ins/bedrock";

const REGION = "eu-central-1";
const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const body = JSON.stringify({ messages: [{ role: "user", content: [{ text: "hello" }] }], inferenceConfig: { maxTokens: 16 } });
const testCredentials: CredentialSource = async () => ({ ...TEST_BEDROCK_CREDENTIALS });

describe("AwsSigner", () => {
  let standIn: BedrockStandIn;
  beforeAll(async () => {
    standIn = await startBedrockStandIn({ region: REGION, deltaIntervalMs: 0 });
  });
  afterAll(async () => {
    await standIn.close();
  });

  /** POSTs ConverseStream to `path` through the signer and returns the status, the body drained. */
  async function post(signer: AwsSigner, path: string): Promise<number> {
    const call = await signer.send({
      url: `${standIn.url}${path}`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      service: "bedrock",
      operation: "converseStream",
      timeoutMs: 2_000,
    });
    try {
      await call.response.body.arrayBuffer();
      return call.response.statusCode;
    } finally {
      call.done();
    }
  }

  it("signs a request the way the stand-in (the SDK's own signer, AWS's rules) accepts it", async () => {
    const signer = new AwsSigner({ signingName: "bedrock", region: REGION, credentials: testCredentials });

    const status = await post(signer, `/model/${encodeURIComponent(HAIKU)}/converse-stream`);

    expect(status).toBe(200);
    const recorded = standIn.requests.at(-1)!;
    expect(recorded.headers["x-amz-security-token"]).toBe(TEST_BEDROCK_CREDENTIALS.sessionToken);
    expect(recorded.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${TEST_BEDROCK_CREDENTIALS.accessKeyId}/\\d{8}/${REGION}/bedrock/aws4_request, `));
  });

  it("signs a model id with ':' in the path, encoded as %3A or not", async () => {
    const signer = new AwsSigner({ signingName: "bedrock", region: REGION, credentials: testCredentials });

    expect(await post(signer, `/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream`)).toBe(200);
    expect(standIn.requests.at(-1)).toMatchObject({ modelId: HAIKU, path: "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream" });
    expect(await post(signer, `/model/${HAIKU}/converse-stream`)).toBe(200);
    expect(standIn.requests.at(-1)).toMatchObject({ modelId: HAIKU, status: 200 });
  });

  it("is refused when signed for another region or with another secret", async () => {
    const path = `/model/${encodeURIComponent(HAIKU)}/converse-stream`;
    const otherRegion = new AwsSigner({ signingName: "bedrock", region: "us-east-1", credentials: testCredentials });
    const wrongSecret = new AwsSigner({ signingName: "bedrock", region: REGION, credentials: async () => ({ ...TEST_BEDROCK_CREDENTIALS, secretAccessKey: "wrong-secret" }) });

    expect(await post(otherRegion, path)).toBe(403);
    expect(await post(wrongSecret, path)).toBe(403);
    expect(standIn.requests.at(-1)?.errorCode).toBe("InvalidSignatureException");
  });

  it("asks the credential source for every request, so rotated credentials are used at once", async () => {
    let calls = 0;
    const counting: CredentialSource = async () => {
      calls += 1;
      return { ...TEST_BEDROCK_CREDENTIALS };
    };
    const signer = new AwsSigner({ signingName: "bedrock", region: REGION, credentials: counting });

    await post(signer, `/model/${encodeURIComponent(HAIKU)}/converse-stream`);
    await post(signer, `/model/${encodeURIComponent(HAIKU)}/converse-stream`);

    expect(calls).toBe(2);
  });

  it("hands back a redactor of the credentials the request was signed with", async () => {
    const signer = new AwsSigner({ signingName: "bedrock", region: REGION, credentials: testCredentials });
    const call = await signer.send({ url: `${standIn.url}/nowhere`, method: "POST", body: "{}", service: "bedrock", operation: "x", timeoutMs: 2_000 });
    await call.response.body.arrayBuffer();
    call.done();

    expect(call.redact(`token=${TEST_BEDROCK_CREDENTIALS.sessionToken}`)).toBe(`token=${REDACTED_SECRET}`);
  });
});

describe("redactorOf", () => {
  it("blanks the secret key and the session token, plain and URL-encoded, and leaves the key id", () => {
    const redact = redactorOf({ accessKeyId: "ASIAEXAMPLE", secretAccessKey: "se/cret+key", sessionToken: "to/ken==" });

    expect(redact("ASIAEXAMPLE se/cret+key to/ken== to%2Fken%3D%3D")).toBe(`ASIAEXAMPLE ${REDACTED_SECRET} ${REDACTED_SECRET} ${REDACTED_SECRET}`);
  });
});
