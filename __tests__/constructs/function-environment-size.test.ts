import { base64LengthLimit, knownEnvironmentBytes, LAMBDA_ENVIRONMENT_MAX_BYTES } from "../../constructs/function-environment-size";
import { synthChatbot } from "../support/infra";
import { resourcesOf, type TerraformJson } from "../support/terraform-json";

/** The bot function (the authorizer's environment is one secret) and the stack's locals. */
function botFunctionOf(tf: TerraformJson) {
  const [fn] = Object.entries(resourcesOf(tf, "aws_lambda_function")).filter(([name]) => name.startsWith("BotFunction"));
  const block = fn![1] as { environment: { variables: Record<string, string> }; lifecycle?: { precondition?: { condition: string; error_message: string }[] } };
  return { variables: block.environment.variables, preconditions: block.lifecycle?.precondition ?? [], locals: (tf as { locals?: Record<string, unknown> }).locals ?? {} };
}

/**
 * Deploy-time values of the realistic size: a bot token as @BotFather issues them, the 32-character
 * passwords main.ts makes, a P-256 certificate's PEM (about 750 bytes) and the proxy's address.
 */
const SAMPLE_VALUES: readonly [RegExp, string][] = [
  [/^\$\{var\.telegram_token\}$/, `1234567890:${"A".repeat(35)}`],
  [/^\$\{random_password\..+\.result\}$/, "p".repeat(32)],
  [/^\$\{aws_dynamodb_table\..+\.name\}$/, "cloud-ai-dev-sessions"],
  [/^\$\{aws_s3_bucket\..+\.bucket\}$/, "cloud-ai-dev-archive-123456789012"],
  [/^https:\/\/\$\{aws_eip\..+\.public_ip\}:11434$/, "https://203.0.113.200:11434"],
  [/^https:\/\/\$\{aws_eip\..+\.public_ip\}:11434\/v1\/audio\/transcriptions$/, "https://203.0.113.200:11434/v1/audio/transcriptions"],
  [/^\$\{tls_self_signed_cert\..+\.cert_pem\}$/, `-----BEGIN CERTIFICATE-----\n${"M".repeat(680)}\n-----END CERTIFICATE-----\n`],
  [/^\$\{\(\(var\.lambda_timeout - 15\) \* 1000\)\}$/, "105000"],
  [/^\$\{var\.allowed_user_ids\}$/, "123456789,987654321"],
  [/^\$\{var\.environment\}$/, "dev"],
  [/^\$\{aws_sqs_queue\..+\.url\}$/, "https://sqs.eu-central-1.amazonaws.com/123456789012/cloud-ai-dev-bot-updates.fifo"],
];

/** A value as Terraform would have it at apply, using SAMPLE_VALUES for the references. */
function applyValue(value: string): string {
  if (!value.includes("${")) return value;
  const sample = SAMPLE_VALUES.find(([pattern]) => pattern.test(value));
  if (!sample) throw new Error(`no sample for ${value}`);
  return sample[1];
}

/**
 * Evaluates the precondition the way Terraform would: reads the local it joins and the limit it
 * compares with from the rendered expression, and computes length(base64encode(join(...))).
 */
function evaluatePrecondition(tf: TerraformJson): { ok: boolean; valueBytes: number } {
  const { preconditions, locals } = botFunctionOf(tf);
  expect(preconditions).toHaveLength(1);
  const match = /^\$\{\(length\(base64encode\(join\("", local\.([A-Za-z0-9_]+)\)\)\) <= (\d+)\)\}$/.exec(preconditions[0]!.condition);
  expect(match).not.toBeNull();
  const values = (locals[match![1]!] as string[]).map(applyValue);
  const joined = values.join("");
  return { ok: Buffer.from(joined, "utf8").toString("base64").length <= Number(match![2]), valueBytes: Buffer.byteLength(joined) };
}

describe("the bot function's environment size (Lambda's 4 KB)", () => {
  it("base64LengthLimit admits exactly the strings of at most floor(limit / 3) * 3 bytes", () => {
    for (const limit of [4096, 3000, 4]) {
      const admitted = (n: number) => Buffer.alloc(n, "x").toString("base64").length <= base64LengthLimit(limit);
      const largest = Math.floor(limit / 3) * 3;
      expect(admitted(largest)).toBe(true);
      expect(admitted(largest + 1)).toBe(false);
      expect(limit - largest).toBeLessThanOrEqual(2);
    }
    expect(base64LengthLimit(-5)).toBe(0);
  });

  it("the precondition joins exactly the function's environment values, with the keys' bytes taken off the limit", () => {
    const { tf } = synthChatbot();
    const { variables, preconditions, locals } = botFunctionOf(tf);
    const local = /local\.([A-Za-z0-9_]+)/.exec(preconditions[0]!.condition)![1]!;
    expect([...(locals[local] as string[])].sort()).toEqual(Object.values(variables).sort()); // the synthesized JSON sorts the variables
    const keyBytes = Object.keys(variables).join("").length;
    expect(preconditions[0]!.condition).toContain(`<= ${base64LengthLimit(LAMBDA_ENVIRONMENT_MAX_BYTES - keyBytes)})`);
    expect(preconditions[0]!.error_message).toMatch(/over Lambda's 4096 bytes.*defaultSystemPrompt.*allowed_user_ids/);
  });

  it("passes the default stack with realistic deploy-time values, and fails one whose system prompt leaves no room for the certificate", () => {
    const fits = evaluatePrecondition(synthChatbot().tf);
    expect(fits.ok).toBe(true);
    // Known at synth, this prompt fits (so synth passes); with the secrets and the certificate it does not.
    const prompt = "You are a careful assistant. ".repeat(105);
    const { tf } = synthChatbot({ defaultSystemPrompt: prompt });
    expect(knownEnvironmentBytes(botFunctionOf(tf).variables)).toBeLessThan(LAMBDA_ENVIRONMENT_MAX_BYTES);
    expect(evaluatePrecondition(tf).ok).toBe(false);
  });

  it("fails synth when what is known already exceeds 4 KB, naming the variable to shorten (bytes, not characters)", () => {
    // 2,100 characters, within the prompt's character limit, but 4,200 bytes of UTF-8.
    expect(() => synthChatbot({ defaultSystemPrompt: "é".repeat(2100) })).toThrow(/over Lambda's 4096: shorten DEFAULT_SYSTEM_PROMPT \(4200 bytes\)/);
  });
});
