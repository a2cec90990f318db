import { checkTelegramHtml, TelegramStandIn } from "../../../../local/stand-ins/telegram/server";
import { resetUpdateIds, TEST_TOKEN, textUpdate } from "../../../support/updates";

interface Envelope {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

describe("TelegramStandIn", () => {
  let telegram: TelegramStandIn;
  beforeEach(async () => {
    resetUpdateIds();
    telegram = await TelegramStandIn.start({ token: TEST_TOKEN });
  });
  afterEach(async () => {
    await telegram.stop();
  });

  async function call(method: string, params: Record<string, unknown> = {}): Promise<{ status: number; body: Envelope }> {
    const response = await fetch(`${telegram.url}/bot${TEST_TOKEN}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(params),
    });
    return { status: response.status, body: (await response.json()) as Envelope };
  }
  const result = async <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
    const { body } = await call(method, params);
    if (!body.ok) throw new Error(`${method}: ${body.description}`);
    return body.result as T;
  };

  describe("requests", () => {
    it("answers getMe with the bot user", async () => {
      const me = await result<{ id: number; is_bot: boolean; username: string }>("getMe");

      expect(me).toMatchObject({ id: 123456, is_bot: true, username: "TestBot" });
    });

    it("answers 401 Unauthorized for a wrong token without recording the call", async () => {
      const response = await fetch(`${telegram.url}/bot999:WRONG/getMe`);

      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ ok: false, error_code: 401, description: "Unauthorized" });
      expect(telegram.calls).toHaveLength(0);
    });

    it("answers 404 Not Found for an unknown method", async () => {
      const { status, body } = await call("sendTelepathy");

      expect(status).toBe(404);
      expect(body).toEqual({ ok: false, error_code: 404, description: "Not Found" });
    });

    it("accepts parameters in the query string of a GET and as urlencoded form", async () => {
      const viaGet = await fetch(`${telegram.url}/bot${TEST_TOKEN}/sendMessage?chat_id=7&text=from%20get`);
      const viaForm = await fetch(`${telegram.url}/bot${TEST_TOKEN}/sendMessage`, {
        method: "POST",
        body: new URLSearchParams({ chat_id: "7", text: "from form" }),
      });

      expect(viaGet.status).toBe(200);
      expect(viaForm.status).toBe(200);
      expect(telegram.messagesIn(7).map((m) => m.text)).toEqual(["from get", "from form"]);
      expect(telegram.callsTo("sendMessage")[1].params).toEqual({ chat_id: "7", text: "from form" });
    });
  });

  describe("messages", () => {
    it("numbers messages per chat and returns a Message", async () => {
      const first = await result<{ message_id: number; chat: { id: number; type: string }; text: string }>("sendMessage", { chat_id: 5, text: "a" });
      const second = await result<{ message_id: number }>("sendMessage", { chat_id: 5, text: "b" });
      const other = await result<{ message_id: number; chat: { type: string } }>("sendMessage", { chat_id: -1001234567890, text: "c" });

      expect(first).toMatchObject({ message_id: 1, chat: { id: 5, type: "private" }, text: "a" });
      expect(second.message_id).toBe(2);
      expect(other).toMatchObject({ message_id: 1, chat: { type: "supergroup" } });
    });

    it("keeps inline keyboards, refuses callback_data over 64 bytes, and an edit without markup removes them", async () => {
      const markup = (data: string) => ({ inline_keyboard: [[{ text: "go", callback_data: data }]] });
      await result("sendMessage", { chat_id: 6, text: "pick", reply_markup: markup("sw:1:abc") });
      expect(telegram.messagesIn(6)[0]!.buttons).toEqual([[{ text: "go", data: "sw:1:abc" }]]);
      const tooLong = await call("sendMessage", { chat_id: 6, text: "x", reply_markup: markup("x".repeat(65)) });
      expect(tooLong.body).toMatchObject({ ok: false, error_code: 400 });
      const press = telegram.press(6, 1, "go", { updateId: 7, userId: 6 }) as { callback_query: { data: string; message: { reply_markup: unknown } } };
      expect(press.callback_query.data).toBe("sw:1:abc");
      expect(press.callback_query.message.reply_markup).toEqual(markup("sw:1:abc"));
      await result("editMessageText", { chat_id: 6, message_id: 1, text: "done" });
      expect(telegram.messagesIn(6)[0]!.buttons).toEqual([]);
      expect((await call("answerCallbackQuery", {})).body).toMatchObject({ ok: false, error_code: 400 });
    });

    it("replaces the text of an edited message in messagesIn", async () => {
      await result("sendMessage", { chat_id: 5, text: "draft one" });
      await result("sendMessage", { chat_id: 5, text: "second" });
      const edited = await result<{ edit_date: number; text: string }>("editMessageText", {
        chat_id: 5,
        message_id: 1,
        text: "<b>final</b>",
        parse_mode: "HTML",
      });

      expect(edited.text).toBe("final");
      expect(edited.edit_date).toBeGreaterThan(0);
      expect(telegram.messagesIn(5)).toEqual([
        { messageId: 1, text: "<b>final</b>", parseMode: "HTML", plainText: "final", edits: 1, buttons: [] },
        { messageId: 2, text: "second", plainText: "second", edits: 0, buttons: [] },
      ]);
    });

    it("answers 'message is not modified' when text and parse mode are unchanged", async () => {
      await result("sendMessage", { chat_id: 5, text: "same", parse_mode: "HTML" });

      const { status, body } = await call("editMessageText", { chat_id: 5, message_id: 1, text: "same", parse_mode: "HTML" });

      expect(status).toBe(400);
      expect(body.description).toBe(
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
      );
    });

    it("accepts an edit that only changes the parse mode", async () => {
      await result("sendMessage", { chat_id: 5, text: "same" });

      const { status } = await call("editMessageText", { chat_id: 5, message_id: 1, text: "same", parse_mode: "HTML" });

      expect(status).toBe(200);
    });

    it("answers 'message to edit not found' for an unknown message id", async () => {
      const { status, body } = await call("editMessageText", { chat_id: 5, message_id: 99, text: "x" });

      expect(status).toBe(400);
      expect(body.description).toBe("Bad Request: message to edit not found");
    });

    it("refuses empty text and text over 4096 characters after parsing", async () => {
      const empty = await call("sendMessage", { chat_id: 5, text: "" });
      const onlyTags = await call("sendMessage", { chat_id: 5, text: "<b></b>", parse_mode: "HTML" });
      const tooLong = await call("sendMessage", { chat_id: 5, text: "x".repeat(4097) });
      const longSourceShortText = await call("sendMessage", { chat_id: 5, text: `<b>${"&lt;".repeat(4096)}</b>`, parse_mode: "HTML" });
      const emojiOverLimit = await call("sendMessage", { chat_id: 5, text: "😀".repeat(2049) });

      expect(empty.body.description).toBe("Bad Request: message text is empty");
      expect(onlyTags.body.description).toBe("Bad Request: message text is empty");
      expect(tooLong.body.description).toBe("Bad Request: message is too long");
      expect(longSourceShortText.status).toBe(200);
      expect(emojiOverLimit.body.description).toBe("Bad Request: message is too long");
    });

    it("refuses invalid HTML with Telegram's can't parse entities error", async () => {
      const { status, body } = await call("sendMessage", { chat_id: 5, text: "a <br> b", parse_mode: "HTML" });

      expect(status).toBe(400);
      expect(body.description).toBe('Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 2');
      expect(telegram.messagesIn(5)).toEqual([]);
    });

    it("returns entities with UTF-16 offsets for HTML text", async () => {
      const message = await result<{ text: string; entities: unknown[] }>("sendMessage", {
        chat_id: 5,
        text: '😀 <b>bold <i>both</i></b> <a href="https://example.com/?a=1&amp;b=2">link</a>',
        parse_mode: "HTML",
      });

      expect(message.text).toBe("😀 bold both link");
      expect(message.entities).toEqual([
        { type: "bold", offset: 3, length: 9 },
        { type: "italic", offset: 8, length: 4 },
        { type: "text_link", offset: 13, length: 4, url: "https://example.com/?a=1&b=2" },
      ]);
    });

    it("accepts drafts in private chats only and keeps them out of messagesIn", async () => {
      const ok = await call("sendMessageDraft", { chat_id: 5, draft_id: 1, text: "partial" });
      const group = await call("sendMessageDraft", { chat_id: -100, draft_id: 1, text: "partial" });
      const zeroId = await call("sendMessageDraft", { chat_id: 5, draft_id: 0, text: "partial" });

      expect(ok.body).toEqual({ ok: true, result: true });
      expect(group.status).toBe(400);
      expect(zeroId.status).toBe(400);
      expect(telegram.messagesIn(5)).toEqual([]);
      expect(telegram.callsTo("sendMessageDraft")).toHaveLength(3);
    });

    it("answers sendChatAction with true and refuses an unknown action", async () => {
      expect((await call("sendChatAction", { chat_id: 5, action: "typing" })).body).toEqual({ ok: true, result: true });
      expect((await call("sendChatAction", { chat_id: 5, action: "dancing" })).status).toBe(400);
    });

    it("deletes a message", async () => {
      await result("sendMessage", { chat_id: 5, text: "bye" });

      expect(await result("deleteMessage", { chat_id: 5, message_id: 1 })).toBe(true);
      expect(telegram.messagesIn(5)).toEqual([]);
      expect((await call("deleteMessage", { chat_id: 5, message_id: 1 })).status).toBe(400);
    });
  });

  describe("files", () => {
    it("records a multipart sendDocument upload and serves it back through getFile", async () => {
      const form = new FormData();
      form.append("chat_id", "5");
      form.append("caption", "your archive");
      form.append("document", new Blob(['{"messages":[]}'], { type: "application/json" }), "session.json");

      const response = await fetch(`${telegram.url}/bot${TEST_TOKEN}/sendDocument`, { method: "POST", body: form });
      const body = (await response.json()) as { result: { document: { file_id: string; file_name: string; file_size: number }; caption: string } };
      const recorded = telegram.callsTo("sendDocument")[0];
      const file = await result<{ file_path: string }>("getFile", { file_id: body.result.document.file_id });
      const download = await fetch(`${telegram.url}/file/bot${TEST_TOKEN}/${file.file_path}`);

      expect(body.result.document).toMatchObject({ file_name: "session.json", file_size: 15 });
      expect(body.result.caption).toBe("your archive");
      expect(recorded.params).toEqual({ chat_id: "5", caption: "your archive" });
      expect(recorded.files.document.filename).toBe("session.json");
      expect(recorded.files.document.contentType).toBe("application/json");
      expect(recorded.files.document.data.toString()).toBe('{"messages":[]}');
      expect(await download.text()).toBe('{"messages":[]}');
      expect(telegram.documentsIn(5)).toHaveLength(1);
    });

    it("serves files added by the test and refuses unknown file ids", async () => {
      const added = telegram.addFile("hello", { filePath: "documents/a.json" });

      const file = await result<{ file_id: string; file_size: number; file_path: string }>("getFile", { file_id: added.file_id });
      const download = await fetch(`${telegram.url}/file/bot${TEST_TOKEN}/documents/a.json`);
      const unknown = await call("getFile", { file_id: "nope" });
      const missing = await fetch(`${telegram.url}/file/bot${TEST_TOKEN}/documents/none.json`);

      expect(file).toEqual(added);
      expect(file.file_size).toBe(5);
      expect(download.headers.get("content-length")).toBe("5");
      expect(await download.text()).toBe("hello");
      expect(unknown.body.description).toBe("Bad Request: invalid file_id");
      expect(missing.status).toBe(404);
      await missing.body?.cancel();
    });
  });

  describe("faults and delays", () => {
    it("fails the next calls with retry_after, then recovers", async () => {
      telegram.failNext("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 3", retryAfter: 3, times: 2 });

      const first = await call("sendMessage", { chat_id: 5, text: "a" });
      const second = await call("sendMessage", { chat_id: 5, text: "a" });
      const third = await call("sendMessage", { chat_id: 5, text: "a" });

      expect(first.status).toBe(429);
      expect(first.body).toEqual({ ok: false, error_code: 429, description: "Too Many Requests: retry after 3", parameters: { retry_after: 3 } });
      expect(second.status).toBe(429);
      expect(third.status).toBe(200);
      expect(telegram.messagesIn(5)).toHaveLength(1);
      expect(telegram.callsTo("sendMessage")).toHaveLength(3);
    });

    it("uses httpStatus when given and leaves other methods alone", async () => {
      telegram.failNext("sendMessage", { errorCode: 403, description: "Forbidden: bot was blocked by the user", httpStatus: 200 });

      const chatAction = await call("sendChatAction", { chat_id: 5, action: "typing" });
      const blocked = await call("sendMessage", { chat_id: 5, text: "a" });

      expect(chatAction.status).toBe(200);
      expect(blocked.status).toBe(200);
      expect(blocked.body).toEqual({ ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" });
    });

    it("delays the next call of a method", async () => {
      telegram.delayNext("sendMessage", 300);

      const started = Date.now();
      await call("sendMessage", { chat_id: 5, text: "slow" });
      const slow = Date.now() - started;
      const again = Date.now();
      await call("sendMessage", { chat_id: 5, text: "fast" });

      expect(slow).toBeGreaterThanOrEqual(290);
      expect(Date.now() - again).toBeLessThan(200);
    });
  });

  describe("webhook and updates", () => {
    it("keeps the setWebhook state for getWebhookInfo, with a simulated last error", async () => {
      await result("setWebhook", { url: "https://example.com/webhook", secret_token: "abc_DEF-1", allowed_updates: ["message"] });
      telegram.webhook.lastErrorMessage = "Wrong response from the webhook: 500 Internal Server Error";
      telegram.webhook.lastErrorDate = 1_700_000_000;
      telegram.pushUpdate(textUpdate("queued"));

      const info = await result<Record<string, unknown>>("getWebhookInfo");

      expect(telegram.webhook).toMatchObject({ url: "https://example.com/webhook", secretToken: "abc_DEF-1", allowedUpdates: ["message"] });
      expect(info).toMatchObject({
        url: "https://example.com/webhook",
        has_custom_certificate: false,
        pending_update_count: 1,
        last_error_message: "Wrong response from the webhook: 500 Internal Server Error",
        last_error_date: 1_700_000_000,
        allowed_updates: ["message"],
      });
    });

    it("refuses a plain-http webhook and a secret token with unallowed characters", async () => {
      expect((await call("setWebhook", { url: "http://example.com/webhook" })).status).toBe(400);
      expect((await call("setWebhook", { url: "https://example.com/webhook", secret_token: "no spaces" })).status).toBe(400);
      expect(telegram.webhook.url).toBe("");
    });

    it("refuses getUpdates with 409 while a webhook is set, and deleteWebhook drops pending updates", async () => {
      await result("setWebhook", { url: "https://example.com/webhook" });
      telegram.pushUpdate(textUpdate("x"));

      const conflict = await call("getUpdates");
      await result("deleteWebhook", { drop_pending_updates: true });
      const info = await result<{ url: string; pending_update_count: number }>("getWebhookInfo");

      expect(conflict.status).toBe(409);
      expect(conflict.body.description).toBe(
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
      expect(info).toEqual({ url: "", has_custom_certificate: false, pending_update_count: 0 });
    });

    it("returns queued updates until an offset confirms them", async () => {
      const a = textUpdate("a");
      const b = textUpdate("b");
      telegram.pushUpdate(a);
      telegram.pushUpdate(b);

      const all = await result<{ update_id: number }[]>("getUpdates");
      const afterFirst = await result<{ update_id: number }[]>("getUpdates", { offset: a.update_id + 1 });
      const none = await result<unknown[]>("getUpdates", { offset: b.update_id + 1 });

      expect(all.map((u) => u.update_id)).toEqual([a.update_id, b.update_id]);
      expect(afterFirst.map((u) => u.update_id)).toEqual([b.update_id]);
      expect(none).toEqual([]);
    });

    it("long-polls until an update is pushed", async () => {
      const started = Date.now();
      const polling = result<{ update_id: number }[]>("getUpdates", { timeout: 10 });
      setTimeout(() => telegram.pushUpdate(textUpdate("late", { updateId: 77 })), 150);

      const updates = await polling;

      expect(updates.map((u) => u.update_id)).toEqual([77]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it("ends a long poll with no updates after its timeout", async () => {
      const started = Date.now();

      const updates = await result<unknown[]>("getUpdates", { timeout: 1 });

      expect(updates).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });
  });

  describe("reset and stop", () => {
    it("reset forgets calls, messages, faults and updates", async () => {
      await result("sendMessage", { chat_id: 5, text: "a" });
      telegram.failNext("sendMessage", { errorCode: 500, description: "Internal Server Error" });
      telegram.pushUpdate(textUpdate("x"));

      telegram.reset();

      expect(telegram.calls).toEqual([]);
      expect(telegram.messagesIn(5)).toEqual([]);
      expect((await call("sendMessage", { chat_id: 5, text: "b" })).status).toBe(200);
      expect(await result("getUpdates")).toEqual([]);
    });

    it("stop ends a pending long poll", async () => {
      const polling = fetch(`${telegram.url}/bot${TEST_TOKEN}/getUpdates?timeout=50`).then(
        async (r) => r.status + (await r.text()),
        () => "closed",
      );
      await new Promise((r) => setTimeout(r, 50));
      const stopping = Date.now();

      await telegram.stop();
      const outcome = await polling;

      expect(["closed", '200{"ok":true,"result":[]}']).toContain(outcome);
      expect(Date.now() - stopping).toBeLessThan(2000);
    });
  });
});

describe("checkTelegramHtml", () => {
  it.each([
    ["plain text", "plain text"],
    ["<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>", "bsieunskd"],
    ['<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>', "xy"],
    ['<a href="https://t.me/x">t</a>', "t"],
    ["<code>a &lt; b</code>", "a < b"],
    ['<pre><code class="language-python">print(1)</code></pre>', "print(1)"],
    ["<blockquote expandable>q</blockquote><blockquote>r</blockquote>", "qr"],
    ['<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"],
    ["&lt;&gt;&amp;&quot;&#65;&#x42;", '<>&"AB'],
    ["<B>upper</B>", "upper"],
    ["a > b", "a > b"],
    ["<b>bold <i>nested <u>deep</u></i></b>", "bold nested deep"],
  ])("accepts %s", (html, text) => {
    expect(checkTelegramHtml(html)).toMatchObject({ ok: true, text });
  });

  it.each([
    ["a < b", 'Unsupported start tag "" at byte offset 2'],
    ["<br>", 'Unsupported start tag "br" at byte offset 0'],
    ["<span>x</span>", 'Unsupported start tag "span" at byte offset 0'],
    ["<b>x", 'Can\'t find end tag corresponding to start tag "b"'],
    ["x</b>", "Unexpected end tag at byte offset 1"],
    ["<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'],
    ["<b", "Unclosed start tag at byte offset 0"],
    ['<a href="x>t</a>', "Unclosed start tag at byte offset 0"],
    ["AT&T", "Unsupported HTML entity at byte offset 2"],
    ["&nbsp;", "Unsupported HTML entity at byte offset 0"],
    ["é&", "Unsupported HTML entity at byte offset 2"],
    ["<code><b>x</b></code>", 'Tag "b" can\'t be nested in tag "code" at byte offset 6'],
    ["<blockquote><blockquote>x</blockquote></blockquote>", 'Tag "blockquote" can\'t be nested in tag "blockquote" at byte offset 12'],
    ["<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have a numeric emoji-id attribute at byte offset 0'],
  ])("refuses %s", (html, reason) => {
    expect(checkTelegramHtml(html)).toEqual({ ok: false, reason });
  });

  it("makes one pre entity with the language for pre>code", () => {
    const check = checkTelegramHtml('<pre><code class="language-ts">x</code></pre>');

    expect(check).toEqual({ ok: true, text: "x", entities: [{ type: "pre", offset: 0, length: 1, language: "ts" }] });
  });
});
