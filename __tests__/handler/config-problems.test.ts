import { createBot } from "../../handler/app";
import { loadConfig } from "../../handler/config";
import { createLogger } from "../../handler/observability/log";

/** Configuration problems reach the error alarm in Lambda (its metric filter counts level ERROR). */
describe("configuration problems at cold start", () => {
  const start = (env: Record<string, string>) => {
    const lines: string[] = [];
    const config = loadConfig(env);
    const logger = createLogger({ level: "DEBUG", secrets: [], sink: (line) => lines.push(line) });
    createBot(config, { logger });
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((e) => e.action === "load_config");
  };

  it("logs each problem once at ERROR in Lambda", () => {
    const entries = start({ AWS_LAMBDA_FUNCTION_NAME: "telegram-bot", TELEGRAM_TOKEN: "1:x", OLLAMA_TIMEOUT_MS: "soon" });
    const variables = entries.map((e) => e.variable);
    expect(variables).toEqual(expect.arrayContaining(["OLLAMA_TIMEOUT_MS", "TELEGRAM_SECRET_TOKEN", "S3_BUCKET_NAME"]));
    expect(new Set(variables).size).toBe(variables.length);
    expect(entries.every((e) => e.level === "ERROR")).toBe(true);
  });

  it("logs them at WARNING in local mode, where missing settings are a normal way to run", () => {
    const entries = start({ TELEGRAM_TOKEN: "1:x" });
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.level === "WARNING")).toBe(true);
  });
});
