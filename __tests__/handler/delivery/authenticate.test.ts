import { authenticate, headerValue, secretTokenMatches } from "../../../handler/delivery/authenticate";

describe("webhook authentication", () => {
  it("finds headers in any case, in single and multi-value maps", () => {
    expect(headerValue({ headers: { "x-telegram-bot-api-secret-token": "a" }, multiValueHeaders: {} }, "X-Telegram-Bot-Api-Secret-Token")).toBe("a");
    expect(headerValue({ headers: {}, multiValueHeaders: { "X-TELEGRAM-BOT-API-SECRET-TOKEN": ["b", "c"] } }, "x-telegram-bot-api-secret-token")).toBe("c");
  });

  it("compares the secret exactly", () => {
    const event = (value: string) => ({ headers: { "X-Telegram-Bot-Api-Secret-Token": value }, multiValueHeaders: {} });
    expect(secretTokenMatches(event("s3cret"), "s3cret")).toBe(true);
    expect(secretTokenMatches(event("s3cret "), "s3cret")).toBe(false);
    expect(secretTokenMatches(event(""), "s3cret")).toBe(false);
    expect(secretTokenMatches({ headers: {}, multiValueHeaders: {} }, "s3cret")).toBe(false);
  });

  it("lets every request through only when no secret is configured", () => {
    const event = { headers: { "X-Telegram-Bot-Api-Secret-Token": "s3cret" }, multiValueHeaders: {} };
    expect(authenticate(event, undefined)).toBe(true);
    expect(authenticate({ headers: {}, multiValueHeaders: {} }, undefined)).toBe(true);
    expect(authenticate(event, "s3cret")).toBe(true);
    expect(authenticate(event, "other")).toBe(false);
  });

  it("fails closed when a secret is required and none is configured", () => {
    const event = { headers: { "X-Telegram-Bot-Api-Secret-Token": "s3cret" }, multiValueHeaders: {} };
    expect(authenticate(event, undefined, true)).toBe(false);
    expect(authenticate({ headers: {}, multiValueHeaders: {} }, undefined, true)).toBe(false);
    expect(authenticate(event, "s3cret", true)).toBe(true);
  });
});
