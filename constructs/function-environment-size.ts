/**
 * Lambda refuses a function whose environment (every key and value together) is over 4 KB, and
 * says so only when `terraform apply` calls UpdateFunctionConfiguration, half-way through a
 * deploy. Most of the bot's environment is known at synth (names, models, limits, the default
 * system prompt); the secrets, the certificate and the proxy's address are Terraform values. So
 * the size is checked twice: what is known, at synth, with the largest known part named; all of
 * it, by a precondition Terraform evaluates in `plan` (or at the latest before the function is
 * created), whose message says what to shorten.
 */
import { Fn, Lazy, Op, TerraformLocal, Token, type IResolvable, type Precondition } from "cdktf";
import type { Construct } from "constructs";

/** Lambda's limit on a function's environment variables, keys and values together, in bytes. */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/** The bytes of `environment` known at synth: every key, and each value that is not a Terraform token. Pure. */
export function knownEnvironmentBytes(environment: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const [key, value] of Object.entries(environment)) total += bytes(key) + (Token.isUnresolved(value) ? 0 : bytes(value));
  return total;
}

/**
 * Throws when the part of `environment` known at synth is already over Lambda's limit, naming its
 * largest variable (in practice DEFAULT_SYSTEM_PROMPT or ALLOWED_USER_IDS).
 */
export function assertEnvironmentFits(environment: Readonly<Record<string, string>>): void {
  const known = knownEnvironmentBytes(environment);
  if (known <= LAMBDA_ENVIRONMENT_MAX_BYTES) return;
  const [largest, size] = Object.entries(environment)
    .filter(([, value]) => !Token.isUnresolved(value))
    .map(([key, value]) => [key, bytes(value)] as const)
    .sort((a, b) => b[1] - a[1])[0]!;
  throw new Error(
    `The bot function's environment is ${known} bytes before its secrets and certificate, over Lambda's ${LAMBDA_ENVIRONMENT_MAX_BYTES}: ` +
      `shorten ${largest} (${size} bytes).`,
  );
}

/**
 * The longest base64 text of a string of at most `maxBytes` bytes that Terraform can be sure of:
 * Terraform has no byte length, but base64 turns every 3 bytes into 4 characters, so
 * length(base64encode(s)) <= floor(maxBytes / 3) * 4 holds exactly when s has at most
 * floor(maxBytes / 3) * 3 bytes (at most 2 bytes stricter than the limit). Pure.
 */
export function base64LengthLimit(maxBytes: number): number {
  return Math.floor(Math.max(0, maxBytes) / 3) * 4;
}

/**
 * The precondition that the whole environment fits, for the function's lifecycle: the keys'
 * bytes are counted here, the values' by Terraform (sensitive values included: Terraform unmarks
 * a condition's result, and the message names no value). The values go through a local of
 * `scope` because cdktf cannot pass a string that mixes text and a reference (OLLAMA_URL's
 * "https://<address>:11434") to a Terraform function. `environment` is read at synth, so
 * variables added after the function (the update queue's URL) are counted too.
 */
export function environmentFitsPrecondition(scope: Construct, environment: () => Readonly<Record<string, string>>): Precondition {
  const keyBytes = () => Object.keys(environment()).reduce((sum, key) => sum + bytes(key), 0);
  const values = new TerraformLocal(scope, "environment_values", Lazy.anyValue({ produce: () => Object.values(environment()) }));
  const joined = Fn.join("", Token.asList(values.expression));
  const condition: IResolvable = Lazy.anyValue({
    produce: () => Op.lte(Fn.lengthOf(Fn.base64encode(joined)), base64LengthLimit(LAMBDA_ENVIRONMENT_MAX_BYTES - keyBytes())),
  }) as IResolvable;
  return {
    condition,
    errorMessage:
      `The bot function's environment variables are over Lambda's ${LAMBDA_ENVIRONMENT_MAX_BYTES} bytes (keys and values together). ` +
      "Shorten defaultSystemPrompt (stack config) or allowed_user_ids.",
  };
}
