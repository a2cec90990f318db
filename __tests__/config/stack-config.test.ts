import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_OLLAMA_MODELS, FFMPEG_RELEASE, WHISPER_RELEASE } from "../../config/defaults";
import { missingTranscriptionPins, transcriptionOnInstance, WHISPER_MODELS } from "../../config/releases";
import { ENV_OVERRIDES, loadStackConfig, validateStackConfig } from "../../config/stack-config";

const HAIKU = { name: "claude-haiku", provider: "bedrock", model: "us.anthropic.claude-3-5-haiku-20241022-v1:0" } as const;
const VLLM = { name: "qwen-gpu", provider: "openai", model: "Qwen/Qwen2.5-7B-Instruct", baseUrl: "https://gpu.example.com/v1" } as const;
const ROOT = join(__dirname, "..", "..");

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
      userTokensPerDay: 0,
      botTokensPerDay: 0,
      defaultSystemPrompt: "",
      models: DEFAULT_OLLAMA_MODELS.map((m) => ({ name: m, provider: "ollama", model: m })),
      ollamaModels: DEFAULT_OLLAMA_MODELS,
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

  it("bounds the queue's concurrency at 10 by default when no model uses Ollama (the queue then bounds the cost)", () => {
    expect(validateStackConfig({ models: [HAIKU, VLLM] }).queueMaxConcurrency).toBe(10);
    expect(validateStackConfig({ models: [HAIKU, "llama3.2:1b"] }).queueMaxConcurrency).toBe(2);
    expect(validateStackConfig({ models: [HAIKU], queueMaxConcurrency: 4 }).queueMaxConcurrency).toBe(4);
  });

  it("reads strings and objects into one model list, and derives the Ollama ids the instance pulls", () => {
    const config = validateStackConfig({ models: ["llama3.2:1b", HAIKU, { name: "llama-think", model: "llama3.2:1b", thinking: true }, VLLM] });
    expect(config.models).toEqual([{ name: "llama3.2:1b", provider: "ollama", model: "llama3.2:1b" }, HAIKU, { name: "llama-think", provider: "ollama", model: "llama3.2:1b", thinking: true }, VLLM]);
    expect(config.ollamaModels).toEqual(["llama3.2:1b"]);
    expect(validateStackConfig({ models: [HAIKU] }).ollamaModels).toEqual([]);
    expect(Object.isFrozen(config.models[0])).toBe(true);
  });

  it("takes the token budgets of a user and of the bot", () => {
    expect(validateStackConfig({ userTokensPerDay: 50_000, botTokensPerDay: 2_000_000 })).toMatchObject({ userTokensPerDay: 50_000, botTokensPerDay: 2_000_000 });
  });

  it("defaults the timeout to 30 s in sync mode", () => {
    expect(validateStackConfig({ deliveryMode: "sync" }).lambdaTimeoutSeconds).toBe(30);
  });

  it("reads the file, and the environment overrides it", () => {
    const file = configFile({ models: ["phi3:mini"], deliveryMode: "sync", alarmEmail: "ops@example.com" });
    const config = loadStackConfig({ file, env: { DELIVERY_MODE: "queue", STATE_BUCKET: "terraform-state-123456789012" } });
    expect(config.ollamaModels).toEqual(["phi3:mini"]);
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
    const example = join(ROOT, "chatbot.config.example.json");
    expect(loadStackConfig({ file: example, env: {} })).toEqual(validateStackConfig({}));
  });

  it.each([
    ["chatbot.config.bedrock.example.json", ["bedrock"], 10],
    ["chatbot.config.mixed.example.json", ["ollama", "bedrock"], 2],
    ["chatbot.config.vllm.example.json", ["openai"], 10],
  ])("loads the example file %s", (name, providers, concurrency) => {
    const config = loadStackConfig({ file: join(ROOT, name), env: {} });
    expect([...new Set(config.models.map((m) => m.provider))]).toEqual(providers);
    expect(config.queueMaxConcurrency).toBe(concurrency);
  });

  it("takes the model list from OLLAMA_MODELS", () => {
    expect(loadStackConfig({ file: configFile({}), env: { OLLAMA_MODELS: "a:1, b:2" } }).ollamaModels).toEqual(["a:1", "b:2"]);
  });

  it("takes the whole model list as JSON from MODELS, which wins over OLLAMA_MODELS", () => {
    const config = loadStackConfig({ file: configFile({ models: ["phi3:mini"] }), env: { MODELS: JSON.stringify([HAIKU]), OLLAMA_MODELS: "a:1" } });
    expect(config.models).toEqual([HAIKU]);
  });

  it("fails if MODELS is not JSON, naming the variable", () => {
    expect(() => loadStackConfig({ file: configFile({}), env: { MODELS: "[llama" } })).toThrow(/invalid MODELS: got "\[llama"; allowed: json/);
  });

  it("applies every variable ENV_OVERRIDES lists to the setting it names", () => {
    const env = {
      AWS_REGION: "eu-west-1", DELIVERY_MODE: "sync", OLLAMA_MODELS: "phi3:mini", MODELS: JSON.stringify(["phi3:mini", HAIKU]),
      LAB_ROLE_ARN: "arn:aws:iam::123456789012:role/LabRole", SSH_ALLOWED_CIDR: "203.0.113.0/24",
      ALARM_EMAIL: "ops@example.com", STATE_BUCKET: "terraform-state-123456789012", STATE_KEY: "bot/state.tfstate",
      STATE_REGION: "eu-west-1", STATE_LOCKING: "lockfile", STATE_LOCK_TABLE: "locks-table",
    };
    expect(Object.keys(env).sort()).toEqual(Object.keys(ENV_OVERRIDES).sort());
    const config = loadStackConfig({ file: configFile({}), env });
    expect(config).toMatchObject({
      region: "eu-west-1", deliveryMode: "sync", ollamaModels: ["phi3:mini"], models: [expect.objectContaining({ model: "phi3:mini" }), HAIKU],
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
    expect(validateStackConfig({ models }).ollamaModels).toEqual(models);
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
    [{ models: ["a", "a"] }, /invalid models\[1\]\.name: got "a"; repeats the name a: names must be unique/],
    [{ models: [HAIKU, { ...VLLM, name: "claude-haiku" }] }, /invalid models\[1\]\.name: got "claude-haiku"; repeats the name/],
    [{ models: [{ ...HAIKU, provider: "gemini" }] }, /invalid models\[0\]\.provider: got "gemini"; must be one of ollama, bedrock, openai$/],
    [{ models: [{ name: "qwen", provider: "openai", model: "qwen" }] }, /invalid models\[0\]\.baseUrl: is required for an openai entry/],
    [{ models: ["llama3.2:1b", { ...VLLM, baseUrl: "http://gpu.example.com/v1" }] }, /invalid models\[1\]\.baseUrl: must be https:\/\/ outside this machine/],
    [{ models: [{ ...HAIKU, region: "mars-1" }] }, /invalid models\[0\]\.region: got "mars-1"; must be an AWS region such as us-east-1/],
    [{ models: [{ ...VLLM, region: "us-east-1" }] }, /invalid models\[0\]\.region: got "us-east-1"; is only for bedrock entries/],
    [{ models: ["Llama3:8B"] }, /invalid models\[0\]: got "Llama3:8B"; must be an ollama model name such as llama3.2:1b \(the instance pulls it in a shell script\)/],
    [{ models: [42] }, /invalid models\[0\]: got 42; must be an ollama model name or an object/],
    [{ userTokensPerDay: -1 }, /invalid userTokensPerDay: got -1; allowed: a whole number from 0/],
    [{ botTokensPerDay: 1.5 }, /invalid botTokensPerDay: got 1.5/],
    [{ sshAllowedCidr: "0.0.0.0/0" }, /invalid sshAllowedCidr: got "0.0.0.0\/0"/],
    [{ sshAllowedCidr: "300.1.1.1/32" }, /invalid sshAllowedCidr: got "300.1.1.1\/32"/],
    [{ deliveryMode: "sync", lambdaTimeoutSeconds: 60 }, /invalid lambdaTimeoutSeconds \(sync mode\): got 60; allowed: a whole number from 25 to 30/],

    [{ deliveryMode: "sync", lambdaTimeoutSeconds: 10 }, /invalid lambdaTimeoutSeconds \(sync mode\): got 10; allowed: a whole number from 25 to 30/],
    [{ allowedUserIds: "12,abc" }, /invalid allowedUserIds: got "12,abc"/],
    [{ modelz: ["x"] }, /invalid setting name: got "modelz"/],
    [{ transcriptionModel: "huge" }, /invalid transcriptionModel: got "huge"; allowed: a whisper.cpp model: tiny, tiny.en, base, .*; or "" for none/],
    [{ transcriptionModel: "ggml-base.bin" }, /invalid transcriptionModel: got "ggml-base.bin"/],
    [{ transcriptionModel: "toString" }, /invalid transcriptionModel: got "toString"/],
    [{ whisperSha256: "abc" }, /invalid whisperSha256: got "abc"; allowed: 64 hexadecimal digits \(of the release's source tar.gz\), or empty/],
    [{ ffmpegSha256: "g".repeat(64) }, /invalid ffmpegSha256: got "g{64}"/],
    [{ whisperVersion: "1.8" }, /invalid whisperVersion: got "1.8"; allowed: a whisper.cpp release such as/],
    [{ whisperVersion: "1.8.2" }, /invalid whisperVersion: got "1.8.2"; allowed: 1.8.3 or later/],
    [{ ffmpegVersion: "8.1.3; reboot" }, /invalid ffmpegVersion: got "8.1.3; reboot"/],
    [{ ollamaSha256: 5 }, /invalid ollamaSha256: got 5/],
  ])("fails if a setting is invalid: %j", (settings, message) => {
    expect(() => validateStackConfig(settings as never)).toThrow(message);
  });

  describe("voice transcription on the Ollama instance", () => {
    it("is on by default: the base model and the pinned whisper.cpp and FFmpeg releases", () => {
      const config = validateStackConfig({});
      expect(config).toMatchObject({
        transcriptionModel: "base",
        whisperVersion: WHISPER_RELEASE.version,
        whisperSha256: WHISPER_RELEASE.sha256,
        ffmpegVersion: FFMPEG_RELEASE.version,
        ffmpegSha256: FFMPEG_RELEASE.sha256,
      });
      expect(transcriptionOnInstance(config)).toBe(true);
      expect(missingTranscriptionPins(config)).toEqual([]);
      expect(WHISPER_RELEASE.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(FFMPEG_RELEASE.sha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it("takes a pinned hash for its own release only: another version needs its own hash", () => {
      const other = validateStackConfig({ whisperVersion: "1.9.3", ffmpegVersion: "8.1.2" });
      expect(other).toMatchObject({ whisperSha256: "", ffmpegSha256: "" });
      expect(missingTranscriptionPins(other)).toEqual(["whisperSha256", "ffmpegSha256"]);
      expect(transcriptionOnInstance(other)).toBe(false);
      const pinned = validateStackConfig({ whisperVersion: "1.9.3", whisperSha256: "D".repeat(64) });
      expect(pinned.whisperSha256).toBe("d".repeat(64));
      expect(missingTranscriptionPins(pinned)).toEqual([]);
    });

    it("is off with an empty hash (nothing unverified is built), and off on purpose with an empty model", () => {
      expect(missingTranscriptionPins(validateStackConfig({ whisperSha256: "" }))).toEqual(["whisperSha256"]);
      expect(transcriptionOnInstance(validateStackConfig({ ffmpegSha256: "" }))).toBe(false);
      const off = validateStackConfig({ transcriptionModel: "", whisperSha256: "" });
      expect(transcriptionOnInstance(off)).toBe(false);
      expect(missingTranscriptionPins(off)).toEqual([]);
    });

    it("accepts every model of whisper.cpp's list, each with a SHA-1", () => {
      for (const [name, sha1] of Object.entries(WHISPER_MODELS)) {
        expect(validateStackConfig({ transcriptionModel: name }).transcriptionModel).toBe(name);
        expect(sha1).toMatch(/^[0-9a-f]{40}$/);
      }
    });

    it("reads the settings from the file", () => {
      const file = configFile({ transcriptionModel: "small", whisperSha256: "" });
      expect(loadStackConfig({ file, env: {} })).toMatchObject({ transcriptionModel: "small", whisperSha256: "" });
    });
  });

  it("names every bad field of the model list in one message, never repeating a base URL", () => {
    const bad = { ...VLLM, baseUrl: "http://user:secret@gpu.example.com/v1" };
    const attempt = () => validateStackConfig({ models: [bad, { ...HAIKU, vision: "yes" }] });
    expect(attempt).toThrow(/invalid models\[0\]\.baseUrl: must not carry credentials.*; invalid models\[1\]\.vision: got "yes"; must be true or false/);
    expect(attempt).not.toThrow(/secret/);
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
