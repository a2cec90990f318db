/**
 * Shared setup of the infrastructure tests: a deterministic stack configuration, the fixture
 * handler bundle, and a scope pre-populated with the constructs others depend on.
 */
import { join } from "node:path";
import { Testing, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { validateStackConfig, type StackConfig, type StackConfigInput } from "../../config/stack-config";
import { ArchiveBucket } from "../../constructs/archive-bucket";
import { BotFunction, type BotFunctionProps } from "../../constructs/bot-function";
import { SessionsTable } from "../../constructs/sessions-table";
import { ChatbotStack } from "../../main";
import { parseTf, type TerraformJson } from "./terraform-json";
import "./cdktf-setup";

/** A small stand-in for dist/handler, so snapshots do not follow handler changes. */
export const FIXTURE_BUNDLE_DIR = join(__dirname, "fixtures", "handler-bundle");

/** A distinctive bot token that must never appear in synthesized output. */
export const TEST_TELEGRAM_TOKEN = "987654321:AAF-never-in-synth-output-0123456789";

/** The stack configuration from defaults and the given settings only (no file, no environment). */
export function testConfig(settings: StackConfigInput = {}): StackConfig {
  return validateStackConfig(settings);
}

/** Synthesizes the whole chatbot stack with the fixture bundle; returns the JSON text and its parsed form. */
export function synthChatbot(settings: StackConfigInput = {}): { json: string; tf: TerraformJson } {
  const app = Testing.app();
  const stack = new ChatbotStack(app, "test", { config: testConfig(settings), bundleDir: FIXTURE_BUNDLE_DIR });
  const json = Testing.synth(stack);
  return { json, tf: parseTf(json) };
}

/** The constructs a BotFunction needs, created in a scope. */
export interface FunctionDeps {
  readonly table: SessionsTable;
  readonly bucket: ArchiveBucket;
}

/** Creates the provider, a table and a bucket in a scope (for constructs that need them). */
export function createDeps(scope: TerraformStack): FunctionDeps {
  new AwsProvider(scope, "aws", { region: "us-east-1" });
  return {
    table: new SessionsTable(scope, "Table"),
    bucket: new ArchiveBucket(scope, "Bucket", { bucketName: "chatbot-conversations-123456789012" }),
  };
}

/** Props of a BotFunction with test values; override any of them. */
export function botFunctionProps(deps: FunctionDeps, overrides: Partial<BotFunctionProps> = {}): BotFunctionProps {
  return {
    table: deps.table,
    bucket: deps.bucket,
    bundleDir: FIXTURE_BUNDLE_DIR,
    ollamaUrl: "http://203.0.113.10:11434",
    models: ["llama3.2:1b"],
    telegramToken: "${var.telegram_token}",
    webhookSecret: "${random_password.webhook.result}",
    ollamaApiKey: "${random_password.key.result}",
    ...overrides,
  };
}

/** Synthesizes a scope built by `build`, after creating the shared dependencies. */
export function synthWith(build: (scope: TerraformStack, deps: FunctionDeps) => void): TerraformJson {
  return parseTf(
    Testing.synthScope((scope) => {
      const stack = scope as TerraformStack;
      build(stack, createDeps(stack));
    }),
  );
}

/** A BotFunction in a fresh scope, for tests that want the construct rather than JSON. */
export function newBotFunction(overrides: Partial<BotFunctionProps> = {}): BotFunction {
  const stack = new TerraformStack(Testing.app(), "fn");
  return new BotFunction(stack, "Fn", botFunctionProps(createDeps(stack), overrides));
}
