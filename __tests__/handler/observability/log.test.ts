import { createLogger, createRedactor } from "../../../handler/observability/log";

const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const API_KEY = "k3y-With\"quote\\slash";

function capture(level?: "DEBUG" | "INFO" | "WARNING" | "ERROR") {
  const lines: string[] = [];
  const logger = createLogger({ level, secrets: [TOKEN, API_KEY, "websecret"], sink: (l) => lines.push(l), now: () => new Date(0) });
  return { lines, logger };
}

describe("log", () => {
  it("writes one JSON object per line with level, timestamp, message and fields", () => {
    const { lines, logger } = capture();
    logger.child({ request_id: "r1", user_id: 7 }).info("handled", { action: "handle_command", outcome: "success" });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: "INFO",
      timestamp: "1970-01-01T00:00:00.000Z",
      request_id: "r1",
      user_id: 7,
      action: "handle_command",
      outcome: "success",
      message: "handled",
    });
  });

  it("filters below LOG_LEVEL", () => {
    const { lines, logger } = capture("WARNING");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    expect(lines.map((l) => JSON.parse(l).level)).toEqual(["WARNING"]);
  });

  it("adds error and stack_trace, including causes, on errors", () => {
    const { lines, logger } = capture();
    logger.error("failed", new Error("outer", { cause: new TypeError("inner") }));
    const entry = JSON.parse(lines[0]!);
    expect(entry.level).toBe("ERROR");
    expect(entry.error).toBe("Error: outer <- caused by TypeError: inner");
    expect(entry.stack_trace).toContain("log.test.ts");
  });

  it("removes the token, API key and webhook secret from messages, fields and stacks", () => {
    const { lines, logger } = capture();
    const err = new Error(`connect failed https://api.telegram.org/bot${TOKEN}/sendMessage`);
    logger.error(`calling with ${API_KEY}`, err, { url: `/bot${encodeURIComponent(TOKEN)}/x`, secret: "websecret" });
    const line = lines.join("\n");
    expect(line).not.toContain(TOKEN);
    expect(line).not.toContain(encodeURIComponent(TOKEN));
    expect(line).not.toContain(JSON.stringify(API_KEY).slice(1, -1));
    expect(line).not.toContain("websecret");
    expect(line).toContain("[REDACTED]");
  });

  it("redacts anything shaped like a bot token even when not configured", () => {
    const redact = createRedactor([]);
    expect(redact(`bot${TOKEN}/getMe`)).toBe("bot[REDACTED]/getMe");
  });

  it("leaves ordinary text alone and ignores very short secrets", () => {
    const redact = createRedactor(["ab", undefined, ""]);
    expect(redact("a cab and abc")).toBe("a cab and abc");
  });
});
