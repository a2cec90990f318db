import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { Testing } from "cdktf";
import { ChatbotStack, OPEN_BOT_WARNING, unpinnedOllamaWarning } from "../main";
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

describe("ChatbotStack (main.ts)", () => {
  const { json, tf } = synthChatbot();

  it("matches the snapshot (review diffs: construct ids are part of the contract)", () => {
    expect(tf).toMatchSnapshot();
  });

  it("puts no secret value anywhere in the synthesized output", () => {
    const previous = process.env.TF_VAR_telegram_token;
    process.env.TF_VAR_telegram_token = TEST_TELEGRAM_TOKEN;
    try {
      const outdir = mkdtempSync(join(tmpdir(), "cdktf-out-"));
      const app = new App({ outdir, skipValidation: true });
      new ChatbotStack(app, "secrets", { config: testConfig(), bundleDir: FIXTURE_BUNDLE_DIR });
      app.synth();
      const files = filesUnder(outdir).filter((f) => f.endsWith(".json"));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(readFileSync(file, "utf8")).not.toContain(TEST_TELEGRAM_TOKEN);
    } finally {
      if (previous === undefined) delete process.env.TF_VAR_telegram_token;
      else process.env.TF_VAR_telegram_token = previous;
    }
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
    const userData = onlyResource(tf, "aws_instance").user_data as string;
    const rendered = renderLikeTerraform(userData);
    const file = join(mkdtempSync(join(tmpdir(), "user-data-")), "user-data.sh");
    writeFileSync(file, rendered);
    expect(() => execFileSync("bash", ["-n", file], { stdio: "pipe" })).not.toThrow();
  });

  it("feeds the one model list to both the function and the instance", () => {
    const models = ["llama3.2:1b", "phi3:mini"];
    const { tf: custom } = synthChatbot({ models });
    const env = (botFunctionOf(custom).environment as { variables: Record<string, string> }).variables;
    expect(env.OLLAMA_MODELS).toBe("llama3.2:1b,phi3:mini");
    expect(onlyResource(custom, "aws_instance").user_data).toContain('MODELS=("llama3.2:1b" "phi3:mini")');
  });

  it("sizes Ollama's parallelism and queue from ollamaNumParallel and the queue's concurrency", () => {
    const { tf: custom } = synthChatbot({ ollamaNumParallel: 3, queueMaxConcurrency: 6 });
    const userData = onlyResource(custom, "aws_instance").user_data as string;
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

  it("switches on the S3 backend from the configuration", () => {
    const { tf: remote } = synthChatbot({ stateBackend: { bucket: "terraform-state-123456789012", locking: "lockfile" } });
    expect((remote.terraform as { backend: Record<string, unknown> }).backend).toEqual({
      s3: { bucket: "terraform-state-123456789012", key: "ai-chatbot/terraform.tfstate", region: "us-east-1", encrypt: true, use_lockfile: true },
    });
    expect(json).not.toContain('"s3": {');
  });
});
