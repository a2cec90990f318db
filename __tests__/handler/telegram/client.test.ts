import { ConnectionError, ServiceError } from "../../../handler/net/errors";
import { createLogger } from "../../../handler/observability/log";
import { FileTooLargeError, multipartBody, TelegramClient } from "../../../handler/telegram/client";
import { closedPortUrl } from "../../support/net";
import { TelegramStandIn } from "../../../local/stand-ins/telegram/server";
import { TEST_TOKEN } from "../../support/updates";

describe("TelegramClient", () => {
  let telegram: TelegramStandIn;
  let client: TelegramClient;
  let logs: string[];
  const sleeps: number[] = [];

  beforeAll(async () => {
    telegram = await TelegramStandIn.start({ token: TEST_TOKEN, botUsername: "UnitBot" });
  });
  afterAll(async () => {
    await telegram.stop();
  });
  beforeEach(() => {
    telegram.reset();
    logs = [];
    sleeps.length = 0;
    client = new TelegramClient({
      token: TEST_TOKEN,
      apiUrl: telegram.url,
      timeoutMs: 1_000,
      logger: createLogger({ level: "DEBUG", sink: (l) => logs.push(l) }),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  });

  it("calls methods at {url}/bot{token}/{method} and resolves with result", async () => {
    const me = await client.call("getMe", {});
    expect(me.username).toBe("UnitBot");
    const sent = await client.call("sendMessage", { chat_id: 5, text: "hi" });
    expect(sent.text).toBe("hi");
    expect(telegram.messagesIn(5).map((m) => m.text)).toEqual(["hi"]);
  });

  it("rejects ok:false with a ServiceError naming method, code and description, and logs it", async () => {
    telegram.failNext("sendMessage", { errorCode: 400, description: "Bad Request: chat not found" });
    const error = (await client.call("sendMessage", { chat_id: 5, text: "x" }).catch((e: unknown) => e)) as ServiceError;
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toEqual(expect.objectContaining({ operation: "sendMessage", status: 400, description: "Bad Request: chat not found" }));
    expect(logs.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ method: "sendMessage", error_code: 400, description: "Bad Request: chat not found" }),
    ]);
  });

  it("retries a 429 once after retry_after seconds", async () => {
    telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 2", retryAfter: 2 });
    await client.call("sendMessage", { chat_id: 6, text: "after" });
    expect(sleeps).toEqual([2_000]);
    expect(telegram.callsTo("sendMessage")).toHaveLength(2);
  });

  it("does not retry a second 429, nor one that asks to wait too long", async () => {
    telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests", retryAfter: 1, times: 2 });
    await expect(client.call("sendMessage", { chat_id: 6, text: "x" })).rejects.toEqual(expect.objectContaining({ status: 429 }));
    expect(telegram.callsTo("sendMessage")).toHaveLength(2);
    telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests", retryAfter: 60 });
    await expect(client.call("sendMessage", { chat_id: 6, text: "x" })).rejects.toEqual(expect.objectContaining({ retryAfterSeconds: 60 }));
    expect(sleeps).toEqual([1_000]);
  });

  it("withoutRetry makes one attempt per call: a 429 reaches the caller at once, with retry_after, and is logged", async () => {
    telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests", retryAfter: 1 });
    await expect(client.withoutRetry.call("sendMessage", { chat_id: 6, text: "x" })).rejects.toEqual(
      expect.objectContaining({ status: 429, retryAfterSeconds: 1 }),
    );
    expect(telegram.callsTo("sendMessage")).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(logs.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ method: "sendMessage", error_code: 429 })]);
    await client.withoutRetry.call("sendMessage", { chat_id: 6, text: "then fine" });
    expect(telegram.messagesIn(6).map((m) => m.text)).toEqual(["then fine"]);
  });

  it("sends files as multipart/form-data", async () => {
    const data = new TextEncoder().encode('{"a":"é"}');
    await client.call("sendDocument", { chat_id: 7, document: { filename: "x.json", data, contentType: "application/json" }, caption: "cap" });
    const [document] = telegram.documentsIn(7);
    expect(document).toEqual(expect.objectContaining({ filename: "x.json", caption: "cap" }));
    expect(Buffer.compare(document!.data, Buffer.from(data))).toBe(0);
  });

  it("downloads files and refuses those over the limit", async () => {
    const file = telegram.addFile("0123456789");
    await expect(client.downloadFile(file.file_path, 100)).resolves.toEqual(new TextEncoder().encode("0123456789"));
    await expect(client.downloadFile(file.file_path, 5)).rejects.toBeInstanceOf(FileTooLargeError);
  });

  it("times out a slow call with a ConnectionError", async () => {
    telegram.delayNext("sendMessage", 1_500);
    const error = (await client.call("sendMessage", { chat_id: 8, text: "slow" }).catch((e: unknown) => e)) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.timedOut).toBe(true);
  });

  it("never puts the token in an error's message, cause or stack", async () => {
    const offline = new TelegramClient({ token: TEST_TOKEN, apiUrl: await closedPortUrl(), timeoutMs: 1_000 });
    const error = (await offline.call("getMe", {}).catch((e: unknown) => e)) as ConnectionError;
    expect(error).toBeInstanceOf(ConnectionError);
    const everything = [error.message, error.stack, String(error.cause), (error.cause as Error).stack].join("\n");
    expect(everything).not.toContain(TEST_TOKEN);
    expect(everything).not.toContain(TEST_TOKEN.split(":")[1]);
  });
});

describe("multipartBody", () => {
  it("encodes text fields and files with a boundary", () => {
    const { body, contentType } = multipartBody([
      ["chat_id", 5],
      ["document", { filename: 'a"b.json', data: new Uint8Array([1, 2]) }],
    ]);
    const boundary = contentType.split("boundary=")[1]!;
    const text = Buffer.from(body).toString("latin1");
    expect(text).toContain(`--${boundary}\r\nContent-Disposition: form-data; name="chat_id"\r\n\r\n5\r\n`);
    expect(text).toContain('filename="a_b.json"');
    expect(text.endsWith(`--${boundary}--\r\n`)).toBe(true);
  });
});
