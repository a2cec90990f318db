import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Update } from "@grammyjs/types";
import { TelegramClient } from "../../handler/telegram/client";
import { FileOffsetStore } from "../../local/offset-store";
import { pollUpdates, WebhookActiveError } from "../../local/polling";
import { TelegramStandIn } from "../../local/stand-ins/telegram/server";
import { resetUpdateIds, TEST_TOKEN, textUpdate } from "../support/updates";

describe("pollUpdates", () => {
  let telegram: TelegramStandIn;
  let dir: string;
  beforeAll(async () => {
    telegram = await TelegramStandIn.start({ token: TEST_TOKEN });
  });
  afterAll(() => telegram.stop());
  beforeEach(() => {
    telegram.reset();
    resetUpdateIds();
    dir = mkdtempSync(join(tmpdir(), "polling-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const api = () => new TelegramClient({ token: TEST_TOKEN, apiUrl: telegram.url, timeoutMs: 5000 });

  /** Polls until `count` updates were handled, then stops; returns the handled texts. */
  async function pollFor(count: number, store: FileOffsetStore): Promise<{ texts: string[]; offset: number | undefined }> {
    const controller = new AbortController();
    const texts: string[] = [];
    const summary = await pollUpdates({
      api: api(),
      offsetStore: store,
      signal: controller.signal,
      timeoutSeconds: 1,
      onUpdate: async (update: Update) => {
        texts.push(update.message?.text ?? "");
        if (texts.length >= count) controller.abort();
      },
    });
    return { texts, offset: summary.offset };
  }

  it("hands each update to onUpdate in order and saves the next offset", async () => {
    const store = new FileOffsetStore(join(dir, "offset.json"), "123456");
    telegram.pushUpdate(textUpdate("one"));
    telegram.pushUpdate(textUpdate("two"));
    const { texts, offset } = await pollFor(2, store);
    expect(texts).toEqual(["one", "two"]);
    expect(offset).toBe(100_002);
    expect(await store.load()).toBe(100_002);
    expect(telegram.callsTo("getUpdates")[0]?.params).toMatchObject({ timeout: 1, allowed_updates: ["message", "callback_query"] });
  });

  it("after a restart neither repeats handled updates nor drops new ones", async () => {
    const file = join(dir, "offset.json");
    telegram.pushUpdate(textUpdate("first"));
    telegram.pushUpdate(textUpdate("second"));
    telegram.pushUpdate(textUpdate("third"));
    // The first run stops after two updates: "third" was fetched but never handled.
    const first = await pollFor(2, new FileOffsetStore(file, "123456"));
    expect(first.texts).toEqual(["first", "second"]);

    telegram.pushUpdate(textUpdate("fourth"));
    const second = await pollFor(2, new FileOffsetStore(file, "123456"));
    expect(second.texts).toEqual(["third", "fourth"]);
    const offsets = telegram.callsTo("getUpdates").map((c) => c.params.offset);
    expect(offsets).toContain(100_002);
  });

  it("finishes the update in flight before stopping", async () => {
    const controller = new AbortController();
    const store = new FileOffsetStore(join(dir, "offset.json"));
    telegram.pushUpdate(textUpdate("slow"));
    telegram.pushUpdate(textUpdate("next"));
    const handled: string[] = [];
    const summary = await pollUpdates({
      api: api(),
      offsetStore: store,
      signal: controller.signal,
      timeoutSeconds: 1,
      onUpdate: async (update) => {
        controller.abort(); // Ctrl-C arrives while this update is being handled
        await new Promise((r) => setTimeout(r, 50));
        handled.push(update.message?.text ?? "");
      },
    });
    expect(handled).toEqual(["slow"]);
    expect(summary.offset).toBe(100_001);
    expect(await store.load()).toBe(100_001);
  });

  it("handles a chat's control update (a press, /stop) while that chat's answer is still in flight, and confirms nothing unhandled", async () => {
    const controller = new AbortController();
    const store = new FileOffsetStore(join(dir, "offset.json"));
    const slow = textUpdate("tell me a long story");
    telegram.pushUpdate(slow);
    let releaseSlow: () => void = () => undefined;
    const slowDone = new Promise<void>((resolve) => (releaseSlow = resolve));
    const order: string[] = [];
    const summary = pollUpdates({
      api: api(),
      offsetStore: store,
      signal: controller.signal,
      timeoutSeconds: 1,
      onUpdate: async (update) => {
        const text = update.message?.text ?? "";
        order.push(`start ${text}`);
        if (text !== "tell me a long story") {
          releaseSlow(); // the stop reached the bot while the answer was running
        } else {
          // The stop arrives while this update is being handled; its offset must not be saved yet.
          telegram.pushUpdate(textUpdate("/stop"));
          telegram.pushUpdate(textUpdate("next question"));
          await slowDone;
          expect(await store.load()).toBeUndefined();
        }
        order.push(`end ${text}`);
        if (order.filter((o) => o.startsWith("end")).length === 3) controller.abort();
      },
    });
    const result = await summary;
    expect(order).toEqual(["start tell me a long story", "start /stop", "end /stop", "end tell me a long story", "start next question", "end next question"]);
    expect(result.offset).toBe(slow.update_id + 3);
    expect(await store.load()).toBe(slow.update_id + 3);
  });

  it("stops a long poll in flight when aborted", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const summary = await pollUpdates({
      api: api(),
      offsetStore: new FileOffsetStore(join(dir, "offset.json")),
      signal: controller.signal,
      timeoutSeconds: 3,
      onUpdate: async () => undefined,
    });
    expect(summary.handled).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("rejects with WebhookActiveError while a webhook is set", async () => {
    telegram.webhook = { url: "https://example.com/webhook" };
    const promise = pollUpdates({
      api: api(),
      offsetStore: new FileOffsetStore(join(dir, "offset.json")),
      signal: new AbortController().signal,
      timeoutSeconds: 1,
      onUpdate: async () => undefined,
    });
    await expect(promise).rejects.toBeInstanceOf(WebhookActiveError);
  });

  it("ignores an offset saved for another bot", async () => {
    const file = join(dir, "offset.json");
    await new FileOffsetStore(file, "111").save(42);
    expect(await new FileOffsetStore(file, "222").load()).toBeUndefined();
    expect(await new FileOffsetStore(file, "111").load()).toBe(42);
  });
});
