import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TerraformVariable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { BotFunction, DEFAULT_BUNDLE_DIR, ollamaTimeoutMs } from "../../constructs/bot-function";
import { botFunctionProps, synthWith } from "../support/infra";
import { onlyResource, resourcesOf, type TerraformJson } from "../support/terraform-json";

function synthFunction(overrides: Parameters<typeof botFunctionProps>[1] = {}): TerraformJson {
  return synthWith((scope, deps) => {
    new BotFunction(scope, "Fn", botFunctionProps(deps, overrides));
  });
}

const HAIKU = { name: "claude-haiku", provider: "bedrock", model: "us.anthropic.claude-3-5-haiku-20241022-v1:0" } as const;
const VLLM = { name: "qwen-gpu", provider: "openai", model: "Qwen/Qwen2.5-7B-Instruct", baseUrl: "https://gpu.example.com/v1" } as const;

const variablesOf = (tf: TerraformJson): Record<string, string> =>
  (onlyResource(tf, "aws_lambda_function").environment as { variables: Record<string, string> }).variables;

function policyOf(tf: TerraformJson): { Statement: Array<{ Sid: string; Action: string[]; Resource: string[] }> } {
  return JSON.parse(onlyResource(tf, "aws_iam_role_policy").policy as string);
}

describe("BotFunction", () => {
  it("runs the bundle on nodejs24.x with index.handler and 256 MB by default", () => {
    const tf = synthFunction();
    const fn = onlyResource(tf, "aws_lambda_function");
    expect(fn).toMatchObject({ runtime: "nodejs24.x", handler: "index.handler", memory_size: 256, function_name: "telegram-bot" });
    expect(fn.filename).toMatch(/^assets\/.+\/archive\.zip$/);
  });

  it("sets exactly the environment the handler reads", () => {
    const fn = onlyResource(synthFunction({ allowedUserIds: "1,2", environment: "prod" }), "aws_lambda_function");
    const variables = (fn.environment as { variables: Record<string, string> }).variables;
    expect(Object.keys(variables).sort()).toEqual(
      [
        "ALLOWED_USER_IDS", "DYNAMODB_TABLE", "ENVIRONMENT", "LOG_LEVEL", "METRICS_NAMESPACE", "MODELS", "OLLAMA_API_KEY", "OLLAMA_MODELS",
        "OLLAMA_TIMEOUT_MS", "OLLAMA_URL", "S3_BUCKET_NAME", "TELEGRAM_SECRET_TOKEN", "TELEGRAM_TOKEN",
      ].sort(),
    );
    expect(variables).toMatchObject({
      OLLAMA_URL: "http://203.0.113.10:11434",
      OLLAMA_MODELS: "llama3.2:1b",
      MODELS: '["llama3.2:1b"]',
      METRICS_NAMESPACE: "ai-chatbot",
      ALLOWED_USER_IDS: "1,2",
      ENVIRONMENT: "prod",
      LOG_LEVEL: "INFO",
      TELEGRAM_TOKEN: "${var.telegram_token}",
    });
    expect(variables.DYNAMODB_TABLE).toMatch(/^\$\{aws_dynamodb_table\..+\.name\}$/);
    expect(variables.S3_BUCKET_NAME).toMatch(/^\$\{aws_s3_bucket\..+\.bucket\}$/);
  });

  it("sets no OLLAMA_* variable but the model timeout when no model uses Ollama", () => {
    const models = [HAIKU, { name: "nova", provider: "bedrock" as const, model: "amazon.nova-lite-v1:0", region: "us-west-2" }];
    const variables = variablesOf(synthFunction({ models, ollamaUrl: undefined, ollamaApiKey: undefined }));
    expect(Object.keys(variables).filter((k) => k.startsWith("OLLAMA_"))).toEqual(["OLLAMA_TIMEOUT_MS"]);
    expect(JSON.parse(variables.MODELS!)).toEqual(models);
    expect(variables.OPENAI_API_KEY).toBeUndefined();
  });

  it("passes each Ollama model once in OLLAMA_MODELS and the whole list in MODELS", () => {
    const models = ["llama3.2:1b", { name: "llama-think", provider: "ollama" as const, model: "llama3.2:1b", thinking: true }, HAIKU];
    const variables = variablesOf(synthFunction({ models }));
    expect(variables.OLLAMA_MODELS).toBe("llama3.2:1b");
    expect(JSON.parse(variables.MODELS!)).toEqual(["llama3.2:1b", { name: "llama-think", provider: "ollama", model: "llama3.2:1b", thinking: true }, HAIKU]);
  });

  it("sets OPENAI_API_KEY only when a model uses an OpenAI-compatible server", () => {
    const withServer = variablesOf(synthFunction({ models: [VLLM], openaiApiKey: "${var.openai_api_key}" }));
    expect(withServer.OPENAI_API_KEY).toBe("${var.openai_api_key}");
    expect(variablesOf(synthFunction({ openaiApiKey: "${var.openai_api_key}" })).OPENAI_API_KEY).toBeUndefined();
  });

  it("sets TRANSCRIPTION_URL and TRANSCRIPTION_MODEL only with a transcription endpoint", () => {
    const url = "https://${aws_eip.ip.public_ip}:11434/v1/audio/transcriptions";
    const withVoice = variablesOf(synthFunction({ transcriptionUrl: url, transcriptionModel: "base" }));
    expect(withVoice).toMatchObject({ TRANSCRIPTION_URL: url, TRANSCRIPTION_MODEL: "base" });
    expect(withVoice.TRANSCRIPTION_API_KEY).toBeUndefined();
    const without = variablesOf(synthFunction({ transcriptionModel: "base" }));
    expect(Object.keys(without).filter((k) => k.startsWith("TRANSCRIPTION_"))).toEqual([]);
  });

  it("passes the token budgets and the metrics namespace", () => {
    const variables = variablesOf(synthFunction({ tokenBudgets: { userTokensPerDay: 50_000, botTokensPerDay: 0 }, metricsNamespace: "my-bot" }));
    expect(variables).toMatchObject({ USER_TOKENS_PER_DAY: "50000", BOT_TOKENS_PER_DAY: "0", METRICS_NAMESPACE: "my-bot" });
    expect(() => synthFunction({ metricsNamespace: "AWS/Lambda" })).toThrow(/invalid metricsNamespace: got "AWS\/Lambda"/);
  });

  it("counts MODELS in Lambda's 4 KB, naming it when the list alone is too long", () => {
    const models = Array.from({ length: 60 }, (_, i) => ({ ...HAIKU, name: `claude-haiku-${i}`, price: { inputPerMillion: 0.8, outputPerMillion: 4 } }));
    expect(() => synthFunction({ models })).toThrow(/environment is \d+ bytes before its secrets and certificate, over Lambda's 4096: shorten MODELS/);
  });

  it("fails if a model uses Ollama and there is no proxy to call", () => {
    expect(() => synthFunction({ ollamaUrl: undefined })).toThrow(/bot function: invalid ollamaUrl: got undefined; allowed: a value: an entry of models uses provider ollama/);
  });

  it("fails if an entry of the model list is invalid, naming its field", () => {
    expect(() => synthFunction({ models: [{ ...VLLM, baseUrl: undefined } as never] })).toThrow(/invalid models: .*models\[0\]\.baseUrl is required for an openai entry/);
  });

  it("gives queue mode a 120 s timeout and a 105 s Ollama timeout, and no queue of its own", () => {
    const tf = synthFunction();
    const fn = onlyResource(tf, "aws_lambda_function");
    expect(fn.timeout).toBe(120);
    expect((fn.environment as { variables: Record<string, string> }).variables.OLLAMA_TIMEOUT_MS).toBe("105000");
    expect(fn.dead_letter_config).toBeUndefined();
    expect(fn.reserved_concurrent_executions).toBeUndefined();
  });

  it("gives sync mode the seed's 30 s and 22 s", () => {
    const tf = synthFunction({ deliveryMode: "sync" });
    const fn = onlyResource(tf, "aws_lambda_function");
    expect(fn.timeout).toBe(30);
    expect((fn.environment as { variables: Record<string, string> }).variables.OLLAMA_TIMEOUT_MS).toBe("22000");
  });

  it("reserves concurrency, passes the per-user limits, the default system prompt and the pinned CA when given", () => {
    const tf = synthFunction({
      reservedConcurrency: 5,
      userLimits: { messagesPerHour: 7, messagesPerDay: 70, importsPerDay: 0 },
      defaultSystemPrompt: "Be brief.",
      ollamaCaCert: "${tls_self_signed_cert.ollama.cert_pem}",
    });
    const fn = onlyResource(tf, "aws_lambda_function");
    expect(fn.reserved_concurrent_executions).toBe(5);
    expect((fn.environment as { variables: Record<string, string> }).variables).toMatchObject({
      USER_MESSAGES_PER_HOUR: "7",
      USER_MESSAGES_PER_DAY: "70",
      USER_IMPORTS_PER_DAY: "0",
      DEFAULT_SYSTEM_PROMPT: "Be brief.",
      OLLAMA_CA_CERT: "${tls_self_signed_cert.ollama.cert_pem}",
    });
    expect(() => synthFunction({ reservedConcurrency: 0 })).toThrow(/invalid reservedConcurrency: got 0/);
  });

  it("computes the queue-mode Ollama timeout in Terraform when the timeout is a variable", () => {
    const tf = synthWith((scope, deps) => {
      const timeout = new TerraformVariable(scope, "lambda_timeout", { type: "number", default: 120 });
      new BotFunction(scope, "Fn", botFunctionProps(deps, { timeoutSeconds: timeout.numberValue }));
    });
    const fn = onlyResource(tf, "aws_lambda_function");
    expect(fn.timeout).toBe("${var.lambda_timeout}");
    expect((fn.environment as { variables: Record<string, string> }).variables.OLLAMA_TIMEOUT_MS).toBe(
      "${((var.lambda_timeout - 15) * 1000)}",
    );
    expect(ollamaTimeoutMs("queue", 60)).toBe("45000");
  });

  it("creates /aws/lambda/<name> with 14-day retention, and the role's policy, before the function", () => {
    const tf = synthFunction();
    expect(JSON.stringify(tf)).toHaveResourceWithProperties(CloudwatchLogGroup, { name: "/aws/lambda/telegram-bot", retention_in_days: 14 });
    const logGroupId = Object.keys(resourcesOf(tf, "aws_cloudwatch_log_group"))[0];
    const policyId = Object.keys(resourcesOf(tf, "aws_iam_role_policy"))[0];
    // Lambda checks sqs:SendMessage on the dead-letter queue when it creates the function.
    expect(onlyResource(tf, "aws_lambda_function").depends_on).toEqual([
      `aws_cloudwatch_log_group.${logGroupId}`,
      `aws_iam_role_policy.${policyId}`,
    ]);
  });

  it("grants its own role only this table and its indexes, this bucket's archives, and this log group", () => {
    const tf = synthFunction();
    const statements = policyOf(tf).Statement;
    expect(statements.map((s) => s.Sid)).toEqual([
      "WriteOwnLogs", "SessionsTableReadWrite", "ListArchives", "ReadWriteArchives",
    ]);
    const resources = statements.flatMap((s) => s.Resource);
    expect(resources.every((r) => /^\$\{aws_(cloudwatch_log_group|dynamodb_table|s3_bucket)\./.test(r))).toBe(true);
    expect(statements.flatMap((s) => s.Action).some((a) => a.endsWith("*"))).toBe(false);
    const table = statements.find((s) => s.Sid === "SessionsTableReadWrite");
    expect(table?.Resource[1]).toMatch(/\/index\/\*$/);
  });

  it("uses the lab role and creates no IAM role when one is given", () => {
    const tf = synthFunction({ labRoleArn: "arn:aws:iam::123456789012:role/LabRole" });
    expect(onlyResource(tf, "aws_lambda_function").role).toBe("arn:aws:iam::123456789012:role/LabRole");
    expect(resourcesOf(tf, "aws_iam_role")).toEqual({});
    expect(resourcesOf(tf, "aws_iam_role_policy")).toEqual({});
  });

  it("hashes the bundle, so a changed handler changes source_code_hash", () => {
    const dir = mkdtempSync(join(tmpdir(), "bundle-"));
    writeFileSync(join(dir, "index.js"), "exports.handler = async () => ({ statusCode: 204 });\n");
    const fixtureHash = onlyResource(synthFunction(), "aws_lambda_function").source_code_hash;
    const changedHash = onlyResource(synthFunction({ bundleDir: dir }), "aws_lambda_function").source_code_hash;
    expect(fixtureHash).toEqual(expect.any(String));
    expect(changedHash).not.toBe(fixtureHash);
  });

  it("fails if the bundle has not been built", () => {
    const empty = mkdtempSync(join(tmpdir(), "no-bundle-"));
    expect(() => synthFunction({ bundleDir: empty })).toThrow(/bot function: invalid bundleDir: .*run `npm run build` first/);
  });

  it("fails if the sync-mode timeout exceeds API Gateway's limit", () => {
    expect(() => synthFunction({ deliveryMode: "sync", timeoutSeconds: 60 })).toThrow(
      /invalid timeoutSeconds \(sync mode\): got 60; allowed: a whole number from 25 to 30/,
    );
  });

  it("fails if the memory size is out of Lambda's range", () => {
    expect(() => synthFunction({ memorySize: 64 })).toThrow(/invalid memorySize: got 64; allowed: a whole number from 128 to 10240/);
  });

  it("fails if the model list is empty", () => {
    expect(() => synthFunction({ models: [] })).toThrow(/invalid models: got \[\]/);
  });

  it("builds from dist/handler unless told otherwise", () => {
    expect(DEFAULT_BUNDLE_DIR).toBe(join(__dirname, "..", "..", "dist", "handler"));
  });
});
