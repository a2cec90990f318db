import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_OLLAMA_MODELS } from "../../config/defaults";
import { ENV_OVERRIDES, loadStackConfig, validateStackConfig } from "../../config/stack-config";

function configFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "stack-config-")), "chatbot.config.json");
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

describe("config/stack-config", () => {
  it("defaults to queue delivery, the default models, 120 s, the limits and local state", () => {
    const config = validateStackConfig({});
    expect(config).toMatchObject({
      deliveryMode: "queue",
      ollamaNumParallel: 2,
      queueMaxConcurrency: 2,
      reservedConcurrency: undefined,
      apiThrottleRateLimit: 10,
      apiThrottleBurstLimit: 20,
      userMessagesPerHour: 30,
      userMessagesPerDay: 200,
      userImportsPerDay: 10,
      defaultSystemPrompt: "",
      models: DEFAULT_OLLAMA_MODELS,
      lambdaTimeoutSeconds: 120,
      lambdaMemorySize: 256,
      lambdaRuntime: "nodejs24.x",
      logRetentionDays: 14,
      ollamaInstanceType: "t3.large",
      tableName: "chatbot-sessions",
      environment: "dev",
    });
    expect(config.stateBackend).toBeUndefined();
    expect(config.sshAllowedCidr).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("sizes the queue's concurrency from the model server's parallelism, at least 2", () => {
    expect(validateStackConfig({ ollamaNumParallel: 4 }).queueMaxConcurrency).toBe(4);
    expect(validateStackConfig({ ollamaNumParallel: 1 }).queueMaxConcurrency).toBe(2);
    expect(validateStackConfig({ ollamaNumParallel: 4, queueMaxConcurrency: 3 }).queueMaxConcurrency).toBe(3);
  });

  it("defaults the timeout to 30 s in sync mode", () => {
    expect(validateStackConfig({ deliveryMode: "sync" }).lambdaTimeoutSeconds).toBe(30);
  });

  it("reads the file, and the environment overrides it", () => {
    const file = configFile({ models: ["phi3:mini"], deliveryMode: "sync", alarmEmail: "ops@example.com" });
    const config = loadStackConfig({ file, env: { DELIVERY_MODE: "queue", STATE_BUCKET: "terraform-state-123456789012" } });
    expect(config.models).toEqual(["phi3:mini"]);
    expect(config.deliveryMode).toBe("queue");
    expect(config.alarmEmail).toBe("ops@example.com");
    expect(config.stateBackend).toEqual({
      bucket: "terraform-state-123456789012",
      key: "ai-chatbot/terraform.tfstate",
      region: "us-east-1",
      locking: "dynamodb",
      lockTable: "terraform-locks",
    });
  });

  it("accepts the documented example file", () => {
    const example = join(__dirname, "..", "..", "chatbot.config.example.json");
    expect(loadStackConfig({ file: example, env: {} })).toEqual(validateStackConfig({}));
  });

  it("takes the model list from OLLAMA_MODELS", () => {
    expect(loadStackConfig({ file: configFile({}), env: { OLLAMA_MODELS: "a:1, b:2" } }).models).toEqual(["a:1", "b:2"]);
  });

  it("applies every variable ENV_OVERRIDES lists to the setting it names", () => {
    const env = {
      AWS_REGION: "eu-west-1", DELIVERY_MODE: "sync", OLLAMA_MODELS: "phi3:mini",
      LAB_ROLE_ARN: "arn:aws:iam::123456789012:role/LabRole", SSH_ALLOWED_CIDR: "203.0.113.0/24",
      ALARM_EMAIL: "ops@example.com", STATE_BUCKET: "terraform-state-123456789012", STATE_KEY: "bot/state.tfstate",
      STATE_REGION: "eu-west-1", STATE_LOCKING: "lockfile", STATE_LOCK_TABLE: "locks-table",
    };
    expect(Object.keys(env).sort()).toEqual(Object.keys(ENV_OVERRIDES).sort());
    const config = loadStackConfig({ file: configFile({}), env });
    expect(config).toMatchObject({
      region: "eu-west-1", deliveryMode: "sync", models: ["phi3:mini"],
      labRoleArn: env.LAB_ROLE_ARN, sshAllowedCidr: env.SSH_ALLOWED_CIDR, alarmEmail: env.ALARM_EMAIL,
    });
    expect(config.stateBackend).toMatchObject({
      bucket: env.STATE_BUCKET, key: env.STATE_KEY, region: "eu-west-1", locking: "lockfile", lockTable: "locks-table",
    });
  });

  it("falls back to AWS_DEFAULT_REGION when AWS_REGION is unset", () => {
    expect(loadStackConfig({ file: configFile({}), env: { AWS_DEFAULT_REGION: "ap-south-1" } }).region).toBe("ap-south-1");
  });

  it("accepts vision and reasoning models of Ollama's library in the model list", () => {
    const models = ["llama3.2:1b", "qwen2.5vl:3b", "gemma3:4b", "qwen3:1.7b", "deepseek-r1:1.5b"];
    expect(validateStackConfig({ models }).models).toEqual(models);
  });

  it("never reads secrets from the environment", () => {
    const config = loadStackConfig({ file: configFile({}), env: { TF_VAR_telegram_token: "123:secret", TELEGRAM_TOKEN: "123:secret" } });
    expect(JSON.stringify(config)).not.toContain("123:secret");
  });

  it.each([
    [{ deliveryMode: "later" }, /invalid deliveryMode: got "later"; allowed: queue, sync/],
    [{ deliveryMode: "async" }, /invalid deliveryMode: got "async"; allowed: queue, sync \(async was replaced by queue/],
    [{ queueMaxConcurrency: 1 }, /invalid queueMaxConcurrency: got 1; allowed: a whole number from 2 to 1000/],
    [{ reservedConcurrency: 0 }, /invalid reservedConcurrency: got 0; allowed: a whole number from 1 to 1000/],
    [{ userMessagesPerHour: -1 }, /invalid userMessagesPerHour: got -1/],
    [{ apiThrottleBurstLimit: 0 }, /invalid apiThrottleBurstLimit: got 0/],
    [{ defaultSystemPrompt: "x".repeat(4001) }, /invalid defaultSystemPrompt: .*allowed: text of at most 4000 characters/],
    [{ labRoleArn: "LabRole" }, /invalid labRoleArn: got "LabRole"; allowed: an iam role arn starting with arn:aws:iam::/],
    [{ environment: "test" }, /invalid environment: got "test"; allowed: dev, staging, prod/],
    [{ logRetentionDays: 10 }, /invalid logRetentionDays: got 10; allowed: 1, 3, 5, 7, 14/],
    [{ models: [] }, /invalid models: got \[\]/],
    [{ models: ["a", "a"] }, /invalid models: .*each model once/],
    [{ sshAllowedCidr: "0.0.0.0/0" }, /invalid sshAllowedCidr: got "0.0.0.0\/0"/],
    [{ sshAllowedCidr: "300.1.1.1/32" }, /invalid sshAllowedCidr: got "300.1.1.1\/32"/],
    [{ deliveryMode: "sync", lambdaTimeoutSeconds: 60 }, /invalid lambdaTimeoutSeconds \(sync mode\): got 60; allowed: a whole number from 25 to 30/],

    [{ deliveryMode: "sync", lambdaTimeoutSeconds: 10 }, /invalid lambdaTimeoutSeconds \(sync mode\): got 10; allowed: a whole number from 25 to 30/],
    [{ allowedUserIds: "12,abc" }, /invalid allowedUserIds: got "12,abc"/],
    [{ modelz: ["x"] }, /invalid setting name: got "modelz"/],
  ])("fails if a setting is invalid: %j", (settings, message) => {
    expect(() => validateStackConfig(settings as never)).toThrow(message);
  });

  it("fails if the file is not JSON, naming the file", () => {
    const file = configFile("{ not json");
    expect(() => loadStackConfig({ file, env: {} })).toThrow(`invalid configuration file ${file}`);
  });

  it("fails if an explicitly named file does not exist", () => {
    expect(() => loadStackConfig({ env: { CHATBOT_CONFIG: "/nonexistent/chatbot.json" } })).toThrow(
      /invalid configuration file: got "\/nonexistent\/chatbot.json"/,
    );
  });
});
