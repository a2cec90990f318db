import { AUTHORIZER_PRINCIPAL, createAuthorizer, invokePolicy } from "../../../handler/delivery/authorizer";
import { createLogger } from "../../../handler/observability/log";
import { authorizerEvent, webhookMethodArn } from "../../../local/authorizer-event";
import { TEST_SECRET_TOKEN } from "../../support/updates";

describe("the webhook's REQUEST authorizer", () => {
  const lines: string[] = [];
  const logger = createLogger({ level: "DEBUG", secrets: [TEST_SECRET_TOKEN], sink: (line) => lines.push(line) });
  const methodArn = webhookMethodArn({ region: "eu-west-1", accountId: "210987654321", apiId: "zyx987", stage: "prod" });
  const effectOf = (result: Awaited<ReturnType<ReturnType<typeof createAuthorizer>>>) =>
    (result.policyDocument.Statement[0] as { Effect: string }).Effect;

  beforeEach(() => {
    lines.length = 0;
  });

  it("allows invoking exactly the method API Gateway asked about with the right secret", async () => {
    const authorize = createAuthorizer(TEST_SECRET_TOKEN, logger);
    const result = await authorize(authorizerEvent({ secretToken: TEST_SECRET_TOKEN, methodArn }));
    expect(result).toEqual({
      principalId: AUTHORIZER_PRINCIPAL,
      policyDocument: {
        Version: "2012-10-17",
        Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: "arn:aws:execute-api:eu-west-1:210987654321:zyx987/prod/POST/webhook" }],
      },
    });
  });

  it("finds the header in any case", async () => {
    const authorize = createAuthorizer(TEST_SECRET_TOKEN, logger);
    const result = await authorize(authorizerEvent({ secretToken: TEST_SECRET_TOKEN, headerName: "x-telegram-bot-api-secret-token" }));
    expect(effectOf(result)).toBe("Allow");
  });

  it.each([
    ["a wrong secret", "not-the-secret"],
    ["the secret with a trailing space", `${TEST_SECRET_TOKEN} `],
    ["a prefix of the secret", TEST_SECRET_TOKEN.slice(0, 10)],
    ["an empty header", ""],
  ])("denies %s", async (_what, sent) => {
    const authorize = createAuthorizer(TEST_SECRET_TOKEN, logger);
    const result = await authorize(authorizerEvent({ secretToken: sent, methodArn }));
    expect(result).toEqual(invokePolicy("Deny", methodArn));
  });

  it("denies a request without the header (API Gateway refuses those itself when caching is on)", async () => {
    const authorize = createAuthorizer(TEST_SECRET_TOKEN, logger);
    expect(effectOf(await authorize(authorizerEvent({})))).toBe("Deny");
  });

  it.each([[undefined], [""], ["   "]])("fails closed without a configured secret (%p): everything is denied, and it says so at ERROR once", async (secret) => {
    const authorize = createAuthorizer(secret, logger);
    for (const sent of ["", "anything", TEST_SECRET_TOKEN]) {
      expect(effectOf(await authorize(authorizerEvent({ secretToken: sent })))).toBe("Deny");
    }
    const errors = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((e) => e.level === "ERROR");
    expect(errors).toEqual([expect.objectContaining({ variable: "TELEGRAM_SECRET_TOKEN", action: "load_config" })]);
  });

  it("never logs the secret, whatever was sent", async () => {
    const authorize = createAuthorizer(TEST_SECRET_TOKEN, logger);
    await authorize(authorizerEvent({ secretToken: TEST_SECRET_TOKEN }));
    await authorize(authorizerEvent({ secretToken: `${TEST_SECRET_TOKEN}x` }));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain(TEST_SECRET_TOKEN);
  });
});
