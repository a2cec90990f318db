import { ARCHIVE_JSON_BUDGET, checkJsonBudget } from "../../../handler/store/json-budget";

const bytes = (text: string) => new TextEncoder().encode(text);
const budget = { maxDepth: 3, maxValues: 10 };

describe("checkJsonBudget", () => {
  it("accepts what fits: depth and values counted outside strings only", () => {
    expect(checkJsonBudget(bytes('{"a":[1,{"b":"[[[[{{{{"}]}'), budget)).toEqual({ ok: true });
    expect(checkJsonBudget(bytes('{"quote \\" [[[[":"x"}'), budget)).toEqual({ ok: true });
  });

  it("refuses nesting deeper than the budget", () => {
    expect(checkJsonBudget(bytes("[[[[1]]]]"), budget)).toEqual({ ok: false, reason: "it nests deeper than 3 levels" });
  });

  it("refuses more values than the budget, keys included", () => {
    expect(checkJsonBudget(bytes("[1,2,3,4,5,6,7,8,9,10]"), budget)).toEqual({ ok: false, reason: "it holds more than 10 values" });
    expect(checkJsonBudget(bytes('{"a":1,"b":2,"c":3,"d":4,"e":5}'), budget).ok).toBe(false);
  });

  it("refuses a lone surrogate escape, high or low, and accepts a pair", () => {
    expect(checkJsonBudget(bytes('["\\ud83d"]'), budget)).toEqual({ ok: false, reason: "it holds a lone UTF-16 surrogate (\\ud83d) at byte 2" });
    expect(checkJsonBudget(bytes('["\\ude00 x"]'), budget).ok).toBe(false);
    expect(checkJsonBudget(bytes('["\\ud83d\\u0041"]'), budget).ok).toBe(false);
    expect(checkJsonBudget(bytes('["\\ud83d\\ude00 \\u00e9 \\n"]'), budget)).toEqual({ ok: true });
  });

  it("lets a real archive of 20,000 messages through the archive budget", () => {
    const conversation = Array.from({ length: 20_000 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `message ${i}`, ts: i }));
    const file = JSON.stringify({ user_id: 1, session_id: "s", model_name: "m", conversation, last_message_ts: 1, archived_at: "x", archive_version: "1.0" });
    expect(checkJsonBudget(bytes(file), ARCHIVE_JSON_BUDGET)).toEqual({ ok: true });
  });
});
