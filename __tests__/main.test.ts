import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { Testing } from "cdktf";
import { ChatbotStack, OPEN_BOT_WARNING, unpinnedOllamaWarning, voiceOffWarning } from "../main";
import { userDataOf } from "./constructs/ollama-server/user-data-of";
import { FIXTURE_BUNDLE_DIR, synthChatbot, TEST_TELEGRAM_TOKEN, testConfig } from "./support/infra";
import { onlyResource, renderLikeTerraform, resourcesOf, unresolvedReferences, type TerraformJson } from "./support/terraform-json";

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The function with the given handler setting. */
function functionOf(tf: TerraformJson, handler: string): Record<string, unknown> {
  const found = Object.values(resourcesOf(tf, "aws_lambda_function")).filter((f) => f.handler === handler);
  if (found.length !== 1) throw new Error(`expected one function with handler ${handler}, found ${found.length}`);
  return found[0];
}
const botFunctionOf = (tf: TerraformJson) => functionOf(tf, "index.handler");
const botEnvOf = (tf: TerraformJson) => (botFunctionOf(tf).environment as { variables: Record<string, string> }).variables;

/** The statements of the bot function's least-privilege policy. */
function botStatementsOf(tf: TerraformJson): Array<{ Sid: string; Action: string[]; Resource: string[]; Condition?: unknown }> {
  const policy = Object.values(resourcesOf(tf, "aws_iam_role_policy")).find((p) => p.name === "telegram-bot-role-least-privilege");
  return policy ? JSON.parse(policy.policy as string).Statement : [];
}

const HAIKU_3 = { name: "claude-haiku-3", provider: "bedrock", model: "anthropic.claude-3-haiku-20240307-v1:0" } as const;
const HAIKU_35 = { name: "claude-haiku", provider: "bedrock", model: "us.anthropic.claude-3-5-haiku-20241022-v1:0" } as const;
const VLLM = { name: "qwen-gpu", provider: "openai", model: "Qwen/Qwen2.5-7B-Instruct", baseUrl: "https://gpu.example.com/v1" } as const;
/** Resource types that exist only for the Ollama instance. */
const OLLAMA_ONLY_TYPES = ["aws_instance", "aws_eip", "aws_eip_association", "aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_ssm_parameter", "aws_iam_instance_profile"];

/** Synthesizes the stack into a directory with TF_VAR_* set, and returns every JSON file's text. */
function synthesizedFiles(settings: Parameters<typeof testConfig>[0], env: Record<string, string>): string[] {
  const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const outdir = mkdtempSync(join(tmpdir(), "cdktf-out-"));
    const app = new App({ outdir, skipValidation: true });
    new ChatbotStack(app, "secrets", { config: testConfig(settings), bundleDir: FIXTURE_BUNDLE_DIR });
    app.synth();
    return filesUnder(outdir).filter((f) => f.endsWith(".json")).map((f) => readFileSync(f, "utf8"));
  } finally {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("ChatbotStack (main.ts)", () => {
  const { json, tf } = synthChatbot();

  it("matches the snapshot (review diffs: construct ids are part of the contract)", () => {
    expect(tf).toMatchSnapshot();
  });

  it("puts no secret value anywhere in the synthesized output", () => {
    const files = synthesizedFiles({}, { TF_VAR_telegram_token: TEST_TELEGRAM_TOKEN });
    expect(files.length).toBeGreaterThan(0);
    for (const text of files) expect(text).not.toContain(TEST_TELEGRAM_TOKEN);
    const fn = botFunctionOf(tf);
    const env = (fn.environment as { variables: Record<string, string> }).variables;
    expect(env.TELEGRAM_TOKEN).toBe("${var.telegram_token}");
    // The authorizer gets the webhook secret and nothing else of value.
    const authorizerEnv = (functionOf(tf, "index.authorizer").environment as { variables: Record<string, string> }).variables;
    expect(authorizerEnv).toEqual({ TELEGRAM_SECRET_TOKEN: "${random_password.WebhookSecret.result}", LOG_LEVEL: "INFO" });
    expect(env.OLLAMA_API_KEY).toBe("${random_password.OllamaApiKey.result}");
    expect(env.TELEGRAM_SECRET_TOKEN).toBe("${random_password.WebhookSecret.result}");
    expect(tf.variable?.telegram_token).toMatchObject({ sensitive: true, nullable: false });
    expect(tf.variable?.telegram_token.default).toBeUndefined();
  });

  it("refers only to resources, data sources, variables and locals it defines", () => {
    const { problems, checked } = unresolvedReferences(tf);
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });

  it("detects a dangling reference (the check above can fail)", () => {
    const broken: TerraformJson = { ...tf, output: { x: { value: "${aws_s3_bucket.missing.arn} ${HOME}" } } };
    expect(unresolvedReferences(broken).problems.map((p) => p.problem)).toEqual([
      "aws_s3_bucket.missing is not defined",
      "refers to nothing (unescaped literal?)",
    ]);
  });

  it("has user data that passes bash -n once Terraform has rendered it", () => {
    const rendered = renderLikeTerraform(userDataOf(tf));
    const file = join(mkdtempSync(join(tmpdir(), "user-data-")), "user-data.sh");
    writeFileSync(file, rendered);
    expect(() => execFileSync("bash", ["-n", file], { stdio: "pipe" })).not.toThrow();
  });

  it("feeds the one model list to both the function and the instance", () => {
    const models = ["llama3.2:1b", "phi3:mini"];
    const { tf: custom } = synthChatbot({ models });
    const env = (botFunctionOf(custom).environment as { variables: Record<string, string> }).variables;
    expect(env.OLLAMA_MODELS).toBe("llama3.2:1b,phi3:mini");
    expect(userDataOf(custom)).toContain('MODELS=("llama3.2:1b" "phi3:mini")');
  });

  it("gives the function the model list, the token budgets and the metrics namespace, and outputs the dashboard", () => {
    expect(botEnvOf(tf)).toMatchObject({
      MODELS: '["llama3.2:1b","qwen2.5:1.5b-instruct-q4_K_M"]',
      OLLAMA_MODELS: "llama3.2:1b,qwen2.5:1.5b-instruct-q4_K_M",
      USER_TOKENS_PER_DAY: "0",
      BOT_TOKENS_PER_DAY: "0",
      METRICS_NAMESPACE: "ai-chatbot",
    });
    expect(tf.output?.metrics_namespace?.value).toBe("ai-chatbot");
    expect(tf.output?.model_providers?.value).toBe("ollama");
    expect(tf.output?.dashboard_url?.value).toBe("https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/ai-chatbot");
    expect(onlyResource(tf, "aws_cloudwatch_dashboard").dashboard_body).toContain('"InstanceId","${aws_instance.');
    expect(botStatementsOf(tf).map((s) => s.Sid)).not.toContain("InvokeBedrockModels");
  });

  describe("with Bedrock models only", () => {
    const { tf: bedrockOnly } = synthChatbot({ models: [HAIKU_3, HAIKU_35] });

    it("creates no Ollama server, secret, certificate or output", () => {
      for (const type of OLLAMA_ONLY_TYPES) expect(resourcesOf(bedrockOnly, type)).toEqual({});
      expect(Object.keys(bedrockOnly.resource ?? {}).filter((t) => t.startsWith("tls_"))).toEqual([]);
      expect(Object.keys(resourcesOf(bedrockOnly, "random_password"))).toEqual([expect.stringMatching(/^WebhookSecret/)]);
      expect(Object.keys(bedrockOnly.output ?? {}).filter((o) => o.startsWith("ollama_"))).toEqual([]);
      expect(bedrockOnly.output?.model_providers?.value).toBe("bedrock");
      expect(bedrockOnly.variable?.ollama_instance_type).toBeUndefined();
      expect(bedrockOnly.provider?.tls).toBeUndefined();
      expect(unresolvedReferences(bedrockOnly).problems).toEqual([]);
    });

    it("sets no OLLAMA_* variable but the model timeout", () => {
      const env = botEnvOf(bedrockOnly);
      expect(Object.keys(env).filter((k) => k.startsWith("OLLAMA_"))).toEqual(["OLLAMA_TIMEOUT_MS"]);
      expect(JSON.parse(env.MODELS!)).toEqual([HAIKU_3, HAIKU_35]);
    });

    it("lets the function invoke exactly the configured models and profile", () => {
      const account = "${data.aws_caller_identity.current.account_id}";
      const profile = `arn:aws:bedrock:us-east-1:${account}:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0`;
      const statements = botStatementsOf(bedrockOnly).filter((s) => s.Sid.startsWith("InvokeBedrock"));
      expect(statements.map((s) => [s.Sid, s.Action, s.Resource, s.Condition])).toEqual([
        ["InvokeBedrockModels", ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"], ["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", profile], undefined],
        [
          "InvokeBedrockModelsThroughProfiles",
          ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
          ["us-east-1", "us-east-2", "us-west-1", "us-west-2"].map((r) => `arn:aws:bedrock:${r}::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0`),
          { ArnLike: { "bedrock:InferenceProfileArn": [profile] } },
        ],
      ]);
    });

    it("lets the queue run 10 functions at once, and graphs no instance", () => {
      expect(onlyResource(bedrockOnly, "aws_lambda_event_source_mapping").scaling_config).toEqual({ maximum_concurrency: 10 });
      expect(onlyResource(bedrockOnly, "aws_cloudwatch_dashboard").dashboard_body).not.toContain("AWS/EC2");
    });

    it("creates no Bedrock policy with a lab role", () => {
      const { tf: lab } = synthChatbot({ models: [HAIKU_35], labRoleArn: "arn:aws:iam::123456789012:role/LabRole" });
      expect(resourcesOf(lab, "aws_iam_role_policy")).toEqual({});
    });
  });

  it("keeps the instance of a mixed list for its Ollama models only, beside the Bedrock grant", () => {
    const { tf: mixed } = synthChatbot({ models: ["llama3.2:1b", HAIKU_35, { name: "llama-think", model: "llama3.2:1b", thinking: true }] });
    expect(userDataOf(mixed)).toContain('MODELS=("llama3.2:1b")');
    expect(botEnvOf(mixed).OLLAMA_MODELS).toBe("llama3.2:1b");
    expect(botStatementsOf(mixed).map((s) => s.Sid)).toEqual(expect.arrayContaining(["InvokeBedrockModels", "InvokeBedrockModelsThroughProfiles"]));
    expect(mixed.output?.model_providers?.value).toBe("ollama,bedrock");
    expect(onlyResource(mixed, "aws_lambda_event_source_mapping").scaling_config).toEqual({ maximum_concurrency: 2 });
  });

  it("passes the OpenAI-compatible key from a sensitive variable, never its value", () => {
    const key = "sk-never-in-synth-output-0123456789";
    const { tf: vllm } = synthChatbot({ models: [VLLM] });
    expect(vllm.variable?.openai_api_key).toMatchObject({ type: "string", default: "", sensitive: true, nullable: false });
    expect(botEnvOf(vllm).OPENAI_API_KEY).toBe("${var.openai_api_key}");
    expect(tf.variable?.openai_api_key).toBeUndefined();
    expect(botEnvOf(tf).OPENAI_API_KEY).toBeUndefined();
    const files = synthesizedFiles({ models: [VLLM] }, { TF_VAR_openai_api_key: key });
    expect(files.length).toBeGreaterThan(0);
    for (const text of files) expect(text).not.toContain(key);
  });

  it("fails to synthesize naming the bad field of the model list", () => {
    expect(() => synthChatbot({ models: [{ ...VLLM, baseUrl: "http://gpu.example.com/v1" }] })).toThrow(/invalid models\[0\]\.baseUrl: must be https:\/\//);
  });

  it("sizes Ollama's parallelism and queue from ollamaNumParallel and the queue's concurrency", () => {
    const { tf: custom } = synthChatbot({ ollamaNumParallel: 3, queueMaxConcurrency: 6 });
    const userData = userDataOf(custom);
    expect(userData).toContain('Environment="OLLAMA_NUM_PARALLEL=3"');
    expect(userData).toContain('Environment="OLLAMA_MAX_QUEUE=6"');
    const mapping = onlyResource(custom, "aws_lambda_event_source_mapping") as { scaling_config: { maximum_concurrency: number } };
    expect(mapping.scaling_config.maximum_concurrency).toBe(6);
  });

  it("tags everything with Project, Environment and ManagedBy through the provider", () => {
    const aws = (tf.provider?.aws ?? [])[0] as { region: string; default_tags: Array<{ tags: Record<string, string> }> };
    expect(aws.default_tags[0].tags).toEqual({ Project: "ai-chatbot", Environment: "${var.environment}", ManagedBy: "cdktf" });
  });

  it("pins the providers the prebuilt bindings were generated for", () => {
    const providers = (tf.terraform as { required_providers: Record<string, { version: string }> }).required_providers;
    expect(providers.aws.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(providers.random.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("declares the inputs with the seed's validations", () => {
    expect(Object.keys(tf.variable ?? {}).sort()).toEqual(
      ["allowed_user_ids", "environment", "lambda_memory_size", "lambda_timeout", "log_retention_days", "ollama_instance_type", "telegram_token"].sort(),
    );
    const condition = (name: string) => ((tf.variable?.[name].validation as Array<{ condition: string }>)[0]).condition;
    expect(condition("environment")).toBe('${contains(["dev", "staging", "prod"], var.environment)}');
    expect(condition("telegram_token")).toBe("${(length(trimspace(var.telegram_token)) >= 1)}");
    expect(condition("lambda_timeout")).toBe("${((var.lambda_timeout >= 30) && (var.lambda_timeout <= 900))}");
  });

  it("outputs what the scripts need, the secrets marked sensitive", () => {
    const outputs = tf.output ?? {};
    for (const name of [
      "api_gateway_url", "s3_bucket_name", "dynamodb_table_name", "lambda_function_name", "lambda_log_group",
      "ollama_url", "ollama_instance_id", "ollama_public_ip", "update_queue_url", "dead_letter_queue_url",
    ]) {
      expect(outputs[name]).toBeDefined();
      expect(outputs[name].sensitive).toBeUndefined();
    }
    expect(outputs.ollama_api_key.sensitive).toBe(true);
    expect(outputs.webhook_secret.sensitive).toBe(true);
    expect(outputs.api_gateway_url.value).toMatch(/^\$\{aws_api_gateway_stage\..+\.invoke_url\}\/webhook$/);
  });

  it("deploys to the prod stage only when environment is prod", () => {
    expect(onlyResource(tf, "aws_api_gateway_stage").stage_name).toBe('${(var.environment == "prod") ? "prod" : "dev"}');
  });

  it("creates no IAM role on AWS Academy", () => {
    const { tf: lab } = synthChatbot({ labRoleArn: "arn:aws:iam::123456789012:role/LabRole" });
    expect(resourcesOf(lab, "aws_iam_role")).toEqual({});
    expect(onlyResource(lab, "aws_instance").iam_instance_profile).toBe("LabInstanceProfile");
    for (const fn of Object.values(resourcesOf(lab, "aws_lambda_function"))) expect(fn.role).toBe("arn:aws:iam::123456789012:role/LabRole");
    expect(onlyResource(lab, "aws_api_gateway_integration").credentials).toBe("arn:aws:iam::123456789012:role/LabRole");
  });

  it("delivers through the FIFO queue by default, bounded by the model server's parallelism, and the sync mode of the seed on request", () => {
    expect(onlyResource(tf, "aws_lambda_event_source_mapping").scaling_config).toEqual({ maximum_concurrency: 2 });
    expect(onlyResource(tf, "aws_api_gateway_method").authorization).toBe("CUSTOM");
    const { tf: sync } = synthChatbot({ deliveryMode: "sync" });
    expect(resourcesOf(sync, "aws_sqs_queue")).toEqual({});
    expect(resourcesOf(sync, "aws_lambda_event_source_mapping")).toEqual({});
    expect(Object.keys(resourcesOf(sync, "aws_lambda_function"))).toHaveLength(1);
    expect(sync.output?.update_queue_url).toBeUndefined();
  });

  it("warns at synth when the bot is open to every Telegram user, and not when an allow-list is set", () => {
    const warningsOf = (allowedUserIds: string) => {
      const stack = new ChatbotStack(Testing.app(), "warn", { config: testConfig({ allowedUserIds, ollamaSha256: "b".repeat(64) }), bundleDir: FIXTURE_BUNDLE_DIR });
      return stack.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => m.data);
    };
    expect(warningsOf("")).toEqual([OPEN_BOT_WARNING]);
    expect(warningsOf("12345")).toEqual([]);
  });

  it("warns at synth when the Ollama download is not pinned to a SHA-256, and installs the pinned release otherwise", () => {
    const stackWith = (ollamaSha256: string) => new ChatbotStack(Testing.app(), "pin", { config: testConfig({ allowedUserIds: "1", ollamaSha256, ollamaVersion: "0.18.2" }), bundleDir: FIXTURE_BUNDLE_DIR });
    const warnings = (stack: ChatbotStack) => stack.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => m.data);
    expect(warnings(stackWith(""))).toEqual([unpinnedOllamaWarning("0.18.2")]);
    const pinned = stackWith("c".repeat(64));
    expect(warnings(pinned)).toEqual([]);
    const userData = Testing.synth(pinned);
    expect(userData).toContain(`EXPECTED=\\"${"c".repeat(64)}\\"`);
    expect(userData).toContain("releases/download/v$${VERSION}");
    expect(userData).not.toContain("ollama.com/install.sh");
  });

  describe("voice messages", () => {
    const warningsOf = (stack: ChatbotStack) => stack.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => m.data);
    const stackWith = (settings: Parameters<typeof testConfig>[0]) =>
      new ChatbotStack(Testing.app(), "voice", { config: testConfig({ allowedUserIds: "1", ollamaSha256: "c".repeat(64), ...settings }), bundleDir: FIXTURE_BUNDLE_DIR });

    it("gives the function whisper.cpp's endpoint on the Ollama proxy's origin and the model, by default", () => {
      const env = botEnvOf(tf);
      expect(env.TRANSCRIPTION_URL).toBe(`${env.OLLAMA_URL}/v1/audio/transcriptions`);
      expect(env.TRANSCRIPTION_URL).toMatch(/^https:\/\/\$\{aws_eip\..+\.public_ip\}:11434\/v1\/audio\/transcriptions$/);
      expect(env.TRANSCRIPTION_MODEL).toBe("base");
      expect(env.TRANSCRIPTION_API_KEY).toBeUndefined();
      expect(userDataOf(tf)).toContain("systemctl enable --now whisper");
      expect(warningsOf(stackWith({}))).toEqual([]);
    });

    it("passes the configured model to both the instance and the function", () => {
      const { tf: small } = synthChatbot({ transcriptionModel: "small" });
      expect(botEnvOf(small).TRANSCRIPTION_MODEL).toBe("small");
      expect(userDataOf(small)).toContain('MODEL="small"');
    });

    it.each([
      [{ whisperSha256: "" }, ["whisperSha256"]],
      [{ ffmpegSha256: "" }, ["ffmpegSha256"]],
      [{ whisperVersion: "1.9.3", ffmpegVersion: "8.1.2" }, ["whisperSha256", "ffmpegSha256"]],
    ])("warns that voice is off, builds nothing and sets no TRANSCRIPTION_* when a source is not pinned: %j", (settings, missing) => {
      const stack = stackWith(settings);
      expect(warningsOf(stack)).toEqual([voiceOffWarning(missing)]);
      const unpinned = JSON.parse(Testing.synth(stack)) as TerraformJson;
      expect(Object.keys(botEnvOf(unpinned)).filter((k) => k.startsWith("TRANSCRIPTION_"))).toEqual([]);
      expect(userDataOf(unpinned)).not.toContain("/usr/local/bin/whisper-install");
    });

    it('turns voice off without a warning with transcriptionModel ""', () => {
      const stack = stackWith({ transcriptionModel: "", whisperSha256: "" });
      expect(warningsOf(stack)).toEqual([]);
      expect(botEnvOf(JSON.parse(Testing.synth(stack)) as TerraformJson).TRANSCRIPTION_URL).toBeUndefined();
    });

    it("has no transcription server, variable or warning without an Ollama instance", () => {
      const stack = new ChatbotStack(Testing.app(), "bedrock", { config: testConfig({ allowedUserIds: "1", models: [HAIKU_35], whisperSha256: "" }), bundleDir: FIXTURE_BUNDLE_DIR });
      expect(warningsOf(stack)).toEqual([]);
      expect(Object.keys(botEnvOf(JSON.parse(Testing.synth(stack)) as TerraformJson)).filter((k) => k.startsWith("TRANSCRIPTION_"))).toEqual([]);
    });

    it("names the settings to set in its warning", () => {
      expect(voiceOffWarning(["whisperSha256"])).toMatch(/^whisperSha256 is empty: voice messages are off/);
      expect(voiceOffWarning(["whisperSha256", "ffmpegSha256"])).toMatch(/^whisperSha256 and ffmpegSha256 are empty: /);
      expect(voiceOffWarning(["ffmpegSha256"])).toContain('transcriptionModel to ""');
    });
  });

  it("switches on the S3 backend from the configuration", () => {
    const { tf: remote } = synthChatbot({ stateBackend: { bucket: "terraform-state-123456789012", locking: "lockfile" } });
    expect((remote.terraform as { backend: Record<string, unknown> }).backend).toEqual({
      s3: { bucket: "terraform-state-123456789012", key: "ai-chatbot/terraform.tfstate", region: "us-east-1", encrypt: true, use_lockfile: true },
    });
    expect(json).not.toContain('"s3": {');
  });
});
