import type { HttpRequestLike } from "../../local/lambda-event";
import { startHarness, type Harness } from "../support/handler-harness";
import { snapshotStore } from "../support/store-snapshot";
import { TEST_SECRET_TOKEN, TEST_USER_ID } from "../support/updates";

/**
 * A seeded fuzz run over the webhook: random and malformed bodies and updates through the real
 * handler. The seed is printed; FUZZ_SEED=<seed> reproduces a run.
 */

/** mulberry32: a small seeded PRNG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  const chars = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789{}[]\":,\\/\n\t<>&'`~!@#$%^*()é漢字🙂";
  const text = (min: number, max: number) => Array.from({ length: int(min, max) }, () => pick([...chars])).join("");
  return { next, int, pick, text };
}

type Rng = ReturnType<typeof prng>;

/** What a case must get: 401 (bad secret), 400 (not an update) or 200. */
interface FuzzCase {
  readonly label: string;
  readonly request: HttpRequestLike;
  readonly status: 200 | 400 | 401;
}

const SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";
const UNKNOWN_TYPES = [
  "edited_message",
  "channel_post",
  "edited_channel_post",
  "callback_query",
  "inline_query",
  "chosen_inline_result",
  "my_chat_member",
  "chat_member",
  "chat_join_request",
  "poll",
  "poll_answer",
  "message_reaction",
  "business_message",
  "shipping_query",
  "pre_checkout_query",
];

let updateId = 7_000_000;

function request(body: string | null, options: { secret?: string | null; headerName?: string; base64?: boolean } = {}): HttpRequestLike {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const secret = options.secret === undefined ? TEST_SECRET_TOKEN : options.secret;
  if (secret !== null) headers[options.headerName ?? SECRET_HEADER] = secret;
  return { headers, body, isBase64Encoded: options.base64 ?? false };
}

function message(r: Rng, userId: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    message_id: r.int(1, 1e6),
    from: { id: userId, is_bot: false, first_name: r.text(1, 10) },
    chat: { id: userId, type: "private", first_name: "F" },
    date: 1_700_000_000,
    text: r.text(1, 40),
    ...overrides,
  };
}

/** Cases that carry nothing to store: every one leaves the table and the bucket exactly as they were. */
function nothingToStore(r: Rng, userId: number): FuzzCase {
  const id = ++updateId;
  const json = (value: unknown) => JSON.stringify(value);
  switch (r.int(0, 11)) {
    case 0: {
      const valid = json({ update_id: id, message: message(r, userId) });
      const body = r.pick([valid.slice(0, r.int(0, valid.length - 1)), r.text(1, 200), "{", "}", "{\"update_id\":", "\u0000\u0001", "undefined"]);
      return { label: "invalid JSON", request: request(body), status: 400 };
    }
    case 1: {
      const body = json(r.pick<unknown>([[], [1, 2], r.int(-5, 5), r.text(0, 20), true, null, {}, { message: message(r, userId) }]));
      return { label: "valid JSON of the wrong shape", request: request(body), status: 400 };
    }
    case 2: {
      const bad = r.pick<unknown>([String(id), id + 0.5, null, [id], { id }, 2 ** 60, Number.MAX_SAFE_INTEGER + 2]);
      return { label: "update_id of the wrong type", request: request(json({ update_id: bad, message: message(r, userId) })), status: 400 };
    }
    case 3: {
      const type = r.pick(UNKNOWN_TYPES);
      return { label: `unknown update type ${type}`, request: request(json({ update_id: id, [type]: message(r, userId) })), status: 200 };
    }
    case 4: {
      const m = message(r, userId);
      const field = r.pick(["message_id", "from", "chat"]);
      delete m[field];
      return { label: `message without ${field}`, request: request(json({ update_id: id, message: m })), status: 200 };
    }
    case 5: {
      const [path, value] = r.pick<[string, unknown]>([
        ["text", r.int(0, 9)],
        ["text", { t: "x" }],
        ["text", null],
        ["from", { id: String(userId) }],
        ["from", { first_name: "no id" }],
        ["chat", { id: userId + 0.5, type: "private" }],
        ["chat", { id: userId }],
        ["message_id", "12"],
        ["document", { file_id: 5 }],
        ["document", { file_id: "f", file_size: "big" }],
        ["document", "a string"],
      ]);
      return { label: `message.${path} of the wrong type`, request: request(json({ update_id: id, message: message(r, userId, { [path]: value }) })), status: 200 };
    }
    case 6: {
      const bad = r.pick<unknown>([[], "a message", 42, null, true]);
      return { label: "message that is not an object", request: request(json({ update_id: id, message: bad })), status: 200 };
    }
    case 7: {
      const huge = "h".repeat(r.int(100_000, 150_000));
      const shape = r.pick(["edited_message", "group", "no from"]);
      const m =
        shape === "group"
          ? message(r, userId, { text: huge, chat: { id: -100 - userId, type: "supergroup", title: "g" } })
          : message(r, userId, { text: huge, ...(shape === "no from" ? { from: undefined } : {}) });
      const key = shape === "edited_message" ? "edited_message" : "message";
      return { label: `huge text (${shape})`, request: request(json({ update_id: id, [key]: m })), status: 200 };
    }
    case 8: {
      const text = r.pick([r.text(1, 40).replace(/^\//, ""), `/help@OtherBot`, `/newsession@SomeoneElse 1`]);
      const m = message(r, userId, { text, chat: { id: -200 - userId, type: "group", title: "g" } });
      return { label: "group message not addressed to the bot", request: request(json({ update_id: id, message: m })), status: 200 };
    }
    case 9: {
      const body = json({ update_id: id, message: message(r, userId) });
      const secret = r.pick<string | null>([null, "", "wrong", `${TEST_SECRET_TOKEN}x`, TEST_SECRET_TOKEN.toUpperCase(), TEST_SECRET_TOKEN.slice(1)]);
      return { label: `secret ${secret === null ? "missing" : "wrong"}`, request: request(r.pick([body, r.text(0, 50)]), { secret }), status: 401 };
    }
    case 10: {
      const inner = json({ update_id: id, [r.pick(UNKNOWN_TYPES)]: { x: 1 } });
      return r.next() < 0.5
        ? { label: "base64 body of an unknown update", request: request(Buffer.from(inner).toString("base64"), { base64: true }), status: 200 }
        : { label: "base64 flag on a plain JSON body", request: request(json({ update_id: id, message: message(r, userId) }), { base64: true }), status: 400 };
    }
    default: {
      const headerName = r.pick([SECRET_HEADER.toLowerCase(), SECRET_HEADER.toUpperCase(), "x-Telegram-BOT-api-secret-token"]);
      return {
        label: "secret header in another case, unknown update",
        request: request(JSON.stringify({ update_id: id, channel_post: { message_id: 1, chat: { id: -1, type: "channel" } } }), { headerName }),
        status: 200,
      };
    }
  }
}

describe("webhook fuzz", () => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  let h: Harness;
  const user = TEST_USER_ID + 950_000;

  beforeAll(async () => {
    process.stdout.write(`webhook fuzz seed ${seed} (FUZZ_SEED=${seed} npx jest __tests__/faults/fuzz.test.ts reproduces it)\n`);
    h = await startHarness({ logLevel: "INFO" });
    await h.sendText("stored before the fuzz", { userId: user });
    await h.sendText("/newsession 1", { userId: user });
    await h.sendText("a second session", { userId: user });
    await h.sendText("/archive 1", { userId: user });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("1,200 bodies that carry nothing to store: each gets its status, none throws, nothing stored changes", async () => {
    const r = prng(seed);
    const before = await snapshotStore(h);
    const telegramCalls = h.telegram.calls.length;
    const ollamaCalls = h.ollama.requests.length;
    const logStart = h.logs.length;
    const problems: string[] = [];
    const byStatus = new Map<number, number>();
    for (let i = 0; i < 1_200; i++) {
      const c = nothingToStore(r, user + r.int(0, 3));
      byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + 1);
      let status: number | undefined;
      try {
        const result = await h.sendRaw(c.request);
        status = result.statusCode;
        if (typeof result.body !== "string") problems.push(`#${i} ${c.label}: no body`);
      } catch (err) {
        problems.push(`#${i} ${c.label}: threw ${String(err)}`);
      }
      if (status !== c.status) problems.push(`#${i} ${c.label}: got ${status}, expected ${c.status}`);
    }
    expect(problems).toEqual([]);
    // Every family was drawn often enough to mean something.
    expect(byStatus.get(401)).toBeGreaterThan(50);
    expect(byStatus.get(400)).toBeGreaterThan(150);
    expect(byStatus.get(200)).toBeGreaterThan(500);
    expect(await snapshotStore(h)).toEqual(before);
    expect(h.telegram.calls.slice(telegramCalls).filter((call) => call.method !== "getMe")).toEqual([]);
    expect(h.ollama.requests.length).toBe(ollamaCalls);
    const errors = h.logs.slice(logStart).filter((line) => line.includes('"level":"ERROR"'));
    expect(errors).toEqual([]);
  }, 30_000);

  it("messages that do carry something: each gets 200, none throws, and every text sent is stored in order", async () => {
    const r = prng(seed ^ 0x5eed);
    const users = [user + 10, user + 11, user + 12];
    const sent = new Map<number, string[]>(users.map((u) => [u, []]));
    const before = await snapshotStore(h);
    const logStart = h.logs.length;
    const problems: string[] = [];
    for (let i = 0; i < 60; i++) {
      const u = r.pick(users);
      const id = ++updateId;
      const kind = r.int(0, 5);
      let body: Record<string, unknown>;
      let label: string;
      if (kind <= 2) {
        const text = kind === 2 && r.next() < 0.3 ? `huge ${"x".repeat(r.int(100_000, 120_000))}` : r.text(1, 300).replace(/^[\s/]+/, "") || "t";
        sent.get(u)!.push(text);
        body = { update_id: id, message: message(r, u, { text }) };
        label = `text of ${text.length} chars`;
      } else if (kind === 3) {
        body = { update_id: id, message: message(r, u, { text: r.pick(["/help", "/listsessions", "/history", "/echo fuzz", "/nosuchcommand", "/archive", "/listarchives", "/status"]) }) };
        label = "command";
      } else {
        const m = message(r, u);
        delete m.text;
        body = { update_id: id, message: { ...m, ...r.pick<Record<string, unknown>>([{ sticker: { file_id: "s" } }, { photo: [] }, { location: { latitude: 1, longitude: 2 } }]) } };
        label = "non-text message";
      }
      const base64 = r.next() < 0.2;
      const raw = JSON.stringify(body);
      try {
        const result = await h.sendRaw(request(base64 ? Buffer.from(raw).toString("base64") : raw, { base64 }));
        if (result.statusCode !== 200) problems.push(`#${i} ${label}: got ${result.statusCode}`);
      } catch (err) {
        problems.push(`#${i} ${label}: threw ${String(err)}`);
      }
    }
    expect(problems).toEqual([]);
    for (const u of users) {
      const { session } = await h.sessions.getActive(u);
      const texts = session ? (await h.sessions.allMessages(u, session.sessionId)).filter((m) => m.role === "user").map((m) => m.content) : [];
      expect(texts).toEqual(sent.get(u));
    }
    const after = await snapshotStore(h);
    const key = (item: Record<string, unknown>) => `${String(item.pk)}/${String(item.sk)}`;
    const afterKeys = new Set(after.items.map(key));
    expect(before.items.map(key).filter((k) => !afterKeys.has(k))).toEqual([]);
    expect(after.objects).toEqual(before.objects);
    expect(h.logs.slice(logStart).filter((line) => line.includes('"level":"ERROR"'))).toEqual([]);
  }, 30_000);
});
