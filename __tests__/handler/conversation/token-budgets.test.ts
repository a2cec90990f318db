import { BOT_USAGE_PK } from "../../../handler/store/chat-usage";
import { usageSk } from "../../../handler/store/table-layout";
import { ollamaTokens } from "../../../local/stand-ins/ollama";
import { injectFault, throttlingError } from "../../support/aws-faults";
import { useHarness } from "../../support/handler-harness";
import { resetUpdateIds, textUpdate, TEST_USER_ID } from "../../support/updates";

/**
 * Tokens as the provider counted them (the Ollama stand-in sends prompt_eval_count and
 * eval_count as Ollama does), added to the user's day and hour once per update, and the
 * budgets that refuse before the model is asked.
 */
describe("token accounting and budgets", () => {
  const h = useHarness({ deps: { now: () => clock } });
  let user = TEST_USER_ID + 95_000;
  let clock = Date.UTC(2026, 11, 6, 14, 35);
  const DAY = "2026-12-06";
  const last = () => h.repliesTo(user).at(-1) ?? "";
  const usageItem = async (pk = user, kind = "chat") => (await h.doc.get({ TableName: h.config.tableName, Key: { pk, sk: usageSk(kind, DAY) } })).Item;
  /** What the stand-in counts for an echo answer to `text` with this history. */
  const figures = (history: readonly string[], text: string) => ({
    in: [...history, text].reduce((n, t) => n + ollamaTokens(t).length, 0),
    out: ollamaTokens(`You said: ${text}`).length,
  });

  beforeEach(() => {
    resetUpdateIds();
    user += 1;
    clock = Date.UTC(2026, 11, 6, 14, 35);
  });

  it("adds each answer's own token counts to the user's day and hour", async () => {
    await h.sendText("hello there", { userId: user });
    const first = figures([], "hello there");
    await h.sendText("and again", { userId: user });
    const second = figures(["hello there", "You said: hello there"], "and again");
    const item = await usageItem();
    expect(item).toEqual(expect.objectContaining({ day_count: 2, day_in: first.in + second.in, day_out: first.out + second.out, hour_14_in: first.in + second.in, hour_14_out: first.out + second.out }));
  });

  it("counts an update handled twice (its completion lost, then redelivered after the lease) once", async () => {
    const update = textUpdate("only once", { userId: user });
    const isCompletion = (input: Record<string, unknown>) => JSON.stringify(input.ExpressionAttributeValues ?? {}).includes("COMPLETED");
    const lost = injectFault(h.doc, { operation: "UpdateItem", times: 10, when: isCompletion, error: throttlingError });
    try {
      await h.send(update);
    } finally {
      lost.remove();
    }
    clock += 10 * 60_000; // past the first attempt's lease
    await h.send(update);
    expect(h.logEntries()).toContainEqual(expect.objectContaining({ message: "update handled again after an earlier attempt", update_id: update.update_id }));
    const once = figures([], "only once");
    expect(await usageItem()).toEqual(expect.objectContaining({ day_count: 1, day_in: once.in, day_out: once.out }));
  });

  it("refuses a user past userTokensPerDay before the model is asked, stores nothing, and says when it resets", async () => {
    const handler = h.createBotHandler({ tokenBudgets: { userTokensPerDay: 10, botTokensPerDay: 0 } }, { now: () => clock });
    await h.sendText("a fairly long first question for the budget", { userId: user, handler });
    const asked = h.ollama.chatRequests().length;
    await h.sendText("one more", { userId: user, handler });
    expect(last()).toMatch(/^You reached your limit of 10 tokens per day \(\d+ used\)\.\nYou can chat again at 00:00 UTC \(in 9 h 25 min\)\. This message was not sent to the model or saved\.$/);
    expect(h.ollama.chatRequests().length).toBe(asked);
    expect((await h.conversationOf(user)).filter((m) => m.includes("one more"))).toEqual([]);
  });

  it("asks the model for at most what is left of the budget", async () => {
    const handler = h.createBotHandler({ tokenBudgets: { userTokensPerDay: 1_000, botTokensPerDay: 0 } }, { now: () => clock });
    await h.sendText("first", { userId: user, handler });
    const used = figures([], "first");
    await h.sendText("second", { userId: user, handler });
    expect(h.ollama.chatRequests().at(-1)!.options).toEqual(expect.objectContaining({ num_predict: 1_000 - used.in - used.out }));
  });

  it("refuses everyone past botTokensPerDay, counted across users on the bot's own item", async () => {
    const handler = h.createBotHandler({ tokenBudgets: { userTokensPerDay: 0, botTokensPerDay: 15 } }, { now: () => clock });
    await h.sendText("a question from the first user that uses tokens", { userId: user, handler });
    const bot = await usageItem(BOT_USAGE_PK, "bot");
    expect(Number(bot?.day_in) + Number(bot?.day_out)).toBeGreaterThanOrEqual(15);
    const other = user + 500;
    await h.sendText("hi", { userId: other, handler });
    expect(h.repliesTo(other).at(-1)).toMatch(/^The bot reached its limit of 15 tokens per day for everyone/);
  });

  it("/usage shows the day and hour in private, and only the limits in a group", async () => {
    const handler = h.createBotHandler({ tokenBudgets: { userTokensPerDay: 5_000, botTokensPerDay: 0 } }, { now: () => clock });
    await h.sendText("count me", { userId: user, handler });
    await h.sendText("/usage", { userId: user, handler });
    const f = figures([], "count me");
    expect(last()).toContain(`Today: 1 message, ${f.in} tokens in, ${f.out} out`);
    expect(last()).toContain(`- 5,000 tokens per day for each user: ${f.in + f.out} used (resets 00:00 UTC, in 9 h 25 min)`);
    const group = -4_000 - user;
    await h.sendText("/usage", { userId: user, chatId: group, chatType: "group", handler });
    const inGroup = h.repliesTo(group).at(-1)!;
    expect(inGroup).toContain("- 5,000 tokens per day for each user (resets");
    expect(inGroup).not.toContain("used");
  });

  it("shows an estimated cost where the model has prices", async () => {
    const model = h.config.modelNames[0]!;
    const handler = h.createBotHandler({ models: [{ name: model, provider: "ollama", model, price: { inputPerMillion: 1_000_000, outputPerMillion: 2_000_000 } }] }, { now: () => clock });
    await h.sendText("price me", { userId: user, handler });
    await h.sendText("/usage", { userId: user, handler });
    const f = figures([], "price me");
    expect(last()).toContain(`Today: 1 message, ${f.in} tokens in, ${f.out} out, about $${(f.in + 2 * f.out).toFixed(2)}`);
  });
});
