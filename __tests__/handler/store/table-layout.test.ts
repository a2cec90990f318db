import { SESSIONS_TABLE_SCHEMA } from "../../../config/table-schema";
import {
  ANSWERING_PREFIX,
  MESSAGE_PREFIX,
  PROFILE_SK,
  SESSION_PREFIX,
  TTL_ATTRIBUTE,
  UPDATE_PREFIX,
  USAGE_PREFIX,
  expiresAfter,
  messagePrefix,
  messageSk,
  sessionSk,
  updateSk,
} from "../../../handler/store/table-layout";

describe("table layout", () => {
  it("names every item kind by a distinct sort key prefix", () => {
    const prefixes = [PROFILE_SK, SESSION_PREFIX, MESSAGE_PREFIX, UPDATE_PREFIX, USAGE_PREFIX, ANSWERING_PREFIX];
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(a.startsWith(b)).toBe(false);
    expect(sessionSk("s1")).toBe("SESSION#s1");
    expect(updateSk(42)).toBe("UPDATE#42");
    expect(messageSk("s1", 7).startsWith(messagePrefix("s1"))).toBe(true);
  });

  it("keeps one session's message keys apart from another's whose id extends it", () => {
    expect(messageSk("s10", 1).startsWith(messagePrefix("s1"))).toBe(false);
  });

  it("sorts message keys by seq", () => {
    const keys = [1, 2, 9, 10, 11, 100, 9_999_999_999].map((seq) => messageSk("s", seq));
    expect([...keys].sort()).toEqual(keys);
  });

  it("expires items through the schema's TTL attribute, in epoch seconds", () => {
    expect(TTL_ATTRIBUTE).toBe(SESSIONS_TABLE_SCHEMA.ttlAttribute);
    expect(expiresAfter(1_700_000_000_999, 60)).toBe(1_700_000_060);
  });
});
