import { loadConfig } from "../../handler/config";
import { DEFAULT_OLLAMA_MODELS, SYNC_OLLAMA_TIMEOUT_MS, TELEGRAM_GET_FILE_LIMIT_BYTES } from "../../config/defaults";
import { SYSTEM_PROMPT_MAX_CHARS } from "../../config/stack-config";
import { DEFAULT_TABLE_NAME } from "../../config/table-schema";

const complete = {
  TELEGRAM_TOKEN: "123456:abc",
  S3_BUCKET_NAME: "bucket",
  OLLAMA_URL: "http://127.0.0.1:11434/",
};

describe("loadConfig", () => {
  it("applies the shared defaults when only the required settings are given", () => {
    const config = loadConfig(complete);
    expect(config.problems).toEqual([]);
    expect(config.tableName).toBe(DEFAULT_TABLE_NAME);
    expect(config.modelNames).toEqual(DEFAULT_OLLAMA_MODELS);
    expect(config.ollamaTimeoutMs).toBe(SYNC_OLLAMA_TIMEOUT_MS);
    expect(config.telegramApiUrl).toBe("https://api.telegram.org");
    expect(config.ollamaUrl).toBe("http://127.0.0.1:11434");
    expect(config.allowedUserIds).toBeUndefined();
    expect(config.logLevel).toBe("INFO");
  });

  it("returns a frozen object", () => {
    const config = loadConfig(complete);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.modelNames)).toBe(true);
  });

  it("reports a missing token, bucket and Ollama URL by variable name instead of throwing", () => {
    const config = loadConfig({});
    expect(config.problems.map((p) => p.variable).sort()).toEqual(["OLLAMA_URL", "S3_BUCKET_NAME", "TELEGRAM_TOKEN"]);
  });

  it("reports an unparsable OLLAMA_TIMEOUT_MS and keeps the default", () => {
    const config = loadConfig({ ...complete, OLLAMA_TIMEOUT_MS: "22s" });
    expect(config.ollamaTimeoutMs).toBe(SYNC_OLLAMA_TIMEOUT_MS);
    expect(config.problems).toEqual([expect.objectContaining({ variable: "OLLAMA_TIMEOUT_MS" })]);
  });

  it("parses ALLOWED_USER_IDS and reports entries that are not ids", () => {
    const config = loadConfig({ ...complete, ALLOWED_USER_IDS: "1, 22,bob" });
    expect(config.allowedUserIds).toEqual([1, 22]);
    expect(config.problems).toEqual([expect.objectContaining({ variable: "ALLOWED_USER_IDS" })]);
  });

  it("keeps the bot closed when ALLOWED_USER_IDS holds no valid id", () => {
    const config = loadConfig({ ...complete, ALLOWED_USER_IDS: "nobody" });
    expect(config.allowedUserIds).toEqual([]);
  });

  it("reads the model list in order without duplicates", () => {
    const config = loadConfig({ ...complete, OLLAMA_MODELS: " b:1 ,a:2,b:1," });
    expect(config.modelNames).toEqual(["b:1", "a:2"]);
  });

  it("honours the AWS endpoint, region and path-style settings", () => {
    const config = loadConfig({
      ...complete,
      AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:4567",
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:4568",
      AWS_REGION: "eu-west-1",
      S3_FORCE_PATH_STYLE: "true",
    });
    expect(config.dynamodbEndpoint).toBe("http://127.0.0.1:4567");
    expect(config.s3Endpoint).toBe("http://127.0.0.1:4568");
    expect(config.region).toBe("eu-west-1");
    expect(config.s3ForcePathStyle).toBe(true);
  });

  it("reads true/false flags and reports one that is neither", () => {
    expect(loadConfig({ ...complete, SHOW_MODEL_SPEED: "yes" }).showModelSpeed).toBe(true);
    const config = loadConfig({ ...complete, S3_FORCE_PATH_STYLE: "sometimes" });
    expect(config.s3ForcePathStyle).toBe(false);
    expect(config.problems).toEqual([expect.objectContaining({ variable: "S3_FORCE_PATH_STYLE" })]);
  });

  it("reads the deployment environment and reports one the stack never sets", () => {
    expect(loadConfig({ ...complete, ENVIRONMENT: "prod" }).environment).toBe("prod");
    expect(loadConfig({ ...complete, ENVIRONMENT: "qa" }).problems).toEqual([expect.objectContaining({ variable: "ENVIRONMENT" })]);
  });

  it("reports an invalid URL and an unknown log level", () => {
    const config = loadConfig({ ...complete, TELEGRAM_API_URL: "not a url", LOG_LEVEL: "chatty" });
    expect(config.telegramApiUrl).toBe("https://api.telegram.org");
    expect(config.problems.map((p) => p.variable).sort()).toEqual(["LOG_LEVEL", "TELEGRAM_API_URL"]);
  });

  it("never puts a secret's value into a problem message", () => {
    const config = loadConfig({ TELEGRAM_TOKEN: "123456:secret-token-value", OLLAMA_API_KEY: "key-value", OLLAMA_TIMEOUT_MS: "x" });
    const text = JSON.stringify(config.problems);
    expect(text).not.toContain("secret-token-value");
    expect(text).not.toContain("key-value");
  });

  it("does not repeat an invalid URL, which may carry credentials, and cuts other invalid values short", () => {
    const config = loadConfig({ ...complete, OLLAMA_URL: "htp://admin:hunter2@10.0.0.5", OLLAMA_TIMEOUT_MS: "9".repeat(20) + "x".repeat(40) });
    const text = JSON.stringify(config.problems);
    expect(text).not.toContain("hunter2");
    expect(config.problems.find((p) => p.variable === "OLLAMA_URL")?.message).toContain("OLLAMA_URL must be an http(s) URL");
    expect(config.problems.find((p) => p.variable === "OLLAMA_TIMEOUT_MS")?.message).toContain(`got "${"9".repeat(20)}${"x".repeat(12)}…"`);
  });

  it("reads DEFAULT_SYSTEM_PROMPT, and reports and ignores one over the limit", () => {
    expect(loadConfig(complete).defaultSystemPrompt).toBe("");
    expect(loadConfig({ ...complete, DEFAULT_SYSTEM_PROMPT: " You are terse.\nAnswer in English. " }).defaultSystemPrompt).toBe("You are terse.\nAnswer in English.");
    const long = loadConfig({ ...complete, DEFAULT_SYSTEM_PROMPT: "x".repeat(SYSTEM_PROMPT_MAX_CHARS + 1) });
    expect(long.defaultSystemPrompt).toBe("");
    expect(long.problems).toEqual([expect.objectContaining({ variable: "DEFAULT_SYSTEM_PROMPT", message: expect.stringContaining(`${SYSTEM_PROMPT_MAX_CHARS}`) })]);
  });

  it("reads PHOTO_MAX_BYTES (5 MB by default), lowering one over Telegram's 20 MB getFile limit", () => {
    expect(loadConfig(complete).maxPhotoBytes).toBe(5 * 1024 * 1024);
    expect(loadConfig({ ...complete, PHOTO_MAX_BYTES: "1048576" }).maxPhotoBytes).toBe(1048576);
    const large = loadConfig({ ...complete, PHOTO_MAX_BYTES: String(30 * 1024 * 1024) });
    expect(large.maxPhotoBytes).toBe(TELEGRAM_GET_FILE_LIMIT_BYTES);
    expect(large.problems.map((p) => p.variable)).toEqual(["PHOTO_MAX_BYTES"]);
  });
});
