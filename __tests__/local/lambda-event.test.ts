import { lambdaContext, proxyEventFromHttp, proxyEventFromUpdate } from "../../local/lambda-event";
import { TELEGRAM_SECRET_HEADER } from "../../config/defaults";
import { resetUpdateIds, TEST_SECRET_TOKEN, textUpdate } from "../support/updates";

describe("local/lambda-event", () => {
  beforeEach(() => resetUpdateIds());

  describe("proxyEventFromUpdate", () => {
    it("builds a POST to /webhook whose body is the update's JSON", () => {
      const update = textUpdate("hello");

      const event = proxyEventFromUpdate(update);

      expect(event.httpMethod).toBe("POST");
      expect(event.path).toBe("/webhook");
      expect(event.resource).toBe("/webhook");
      expect(event.isBase64Encoded).toBe(false);
      expect(JSON.parse(event.body ?? "")).toEqual(update);
      expect(event.headers["Content-Type"]).toBe("application/json");
      expect(event.multiValueHeaders["Content-Type"]).toEqual(["application/json"]);
      expect(event.requestContext.stage).toBe("local");
      expect(event.requestContext.httpMethod).toBe("POST");
      expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(event.queryStringParameters).toBeNull();
    });

    it("adds the secret token header only when given", () => {
      const withSecret = proxyEventFromUpdate(textUpdate("x"), { secretToken: TEST_SECRET_TOKEN, requestId: "r-1", path: "/hook" });
      const without = proxyEventFromUpdate(textUpdate("x"));

      expect(withSecret.headers[TELEGRAM_SECRET_HEADER]).toBe(TEST_SECRET_TOKEN);
      expect(withSecret.requestContext.requestId).toBe("r-1");
      expect(withSecret.path).toBe("/hook");
      expect(Object.keys(without.headers)).not.toContain(TELEGRAM_SECRET_HEADER);
    });
  });

  describe("proxyEventFromHttp", () => {
    it("keeps the raw body, base64 flag, repeated headers and query string", () => {
      const event = proxyEventFromHttp({
        method: "put",
        path: "/x?a=1&a=2&b=3",
        headers: { "x-multi": ["one", "two"], "x-none": undefined, host: "127.0.0.1:3000" },
        body: "bm90IGpzb24=",
        isBase64Encoded: true,
      });

      expect(event.httpMethod).toBe("PUT");
      expect(event.path).toBe("/x");
      expect(event.body).toBe("bm90IGpzb24=");
      expect(event.isBase64Encoded).toBe(true);
      expect(event.headers).toEqual({ "x-multi": "two", host: "127.0.0.1:3000" });
      expect(event.multiValueHeaders["x-multi"]).toEqual(["one", "two"]);
      expect(event.queryStringParameters).toEqual({ a: "2", b: "3" });
      expect(event.multiValueQueryStringParameters).toEqual({ a: ["1", "2"], b: ["3"] });
      expect(event.requestContext.domainName).toBe("127.0.0.1:3000");
    });

    it("accepts a null body", () => {
      const event = proxyEventFromHttp({ method: "GET", headers: {}, body: null });

      expect(event.body).toBeNull();
      expect(event.httpMethod).toBe("GET");
      expect(event.path).toBe("/webhook");
    });
  });

  describe("lambdaContext", () => {
    it("counts the remaining time down from the timeout", async () => {
      const context = lambdaContext({ timeoutMs: 1000, requestId: "abc", functionName: "fn" });
      const first = context.getRemainingTimeInMillis();
      await new Promise((r) => setTimeout(r, 60));
      const second = context.getRemainingTimeInMillis();

      expect(first).toBeLessThanOrEqual(1000);
      expect(first).toBeGreaterThan(900);
      expect(second).toBeLessThanOrEqual(first - 50);
      expect(context.awsRequestId).toBe("abc");
      expect(context.functionName).toBe("fn");
      expect(context.invokedFunctionArn).toContain(":function:fn");
    });

    it("defaults to 120 s and never goes below zero", () => {
      expect(lambdaContext().getRemainingTimeInMillis()).toBeGreaterThan(119_000);
      expect(lambdaContext({ timeoutMs: 0 }).getRemainingTimeInMillis()).toBe(0);
    });
  });
});
