/**
 * The Converse rules the Bedrock stand-in (local/stand-ins/bedrock.ts) checks a request body
 * by, worded as Bedrock's ValidationException messages (turns start with the user and
 * alternate, no blank text, pictures in a known format with matching bytes, maxTokens >= 1),
 * and what it reads from a well-formed body: the last user text and a token count. Pure.
 */

/** A Converse request body, as far as the stand-in reads it (it checks the rest of the shape). */
export interface StandInConverseBody {
  readonly messages: readonly { readonly role: string; readonly content: readonly Record<string, unknown>[] }[];
  readonly system?: readonly { readonly text?: string }[];
  readonly inferenceConfig?: { readonly maxTokens?: number };
}

/** One well-formed ConverseStream call, as a reply function sees it. */
export interface StandInConverseCall {
  readonly modelId: string;
  readonly body: StandInConverseBody;
}

/** Input tokens the stand-in counts per picture (Claude's figure for about 1.15 megapixels). */
const TOKENS_PER_IMAGE = 1_600;

const FORMATS: Readonly<Record<string, (b: Buffer) => boolean>> = {
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8,
  png: (b) => b.subarray(1, 4).toString("latin1") === "PNG",
  gif: (b) => b.subarray(0, 3).toString("latin1") === "GIF",
  webp: (b) => b.subarray(8, 12).toString("latin1") === "WEBP",
};

/** Why Converse would refuse a block, or undefined. */
function blockProblem(block: Record<string, unknown>, where: string): string | undefined {
  if ("text" in block) {
    return typeof block.text === "string" && block.text.trim() !== "" ? undefined : `The text field in the ContentBlock object at ${where} is blank. Add text to the text field, and try again.`;
  }
  const image = block.image as { format?: unknown; source?: { bytes?: unknown } } | undefined;
  if (image === undefined) return `The content block at ${where} is of a type this stand-in does not know.`;
  const check = typeof image.format === "string" ? FORMATS[image.format] : undefined;
  if (!check || typeof image.source?.bytes !== "string") return `The image at ${where} needs a format (jpeg, png, gif, webp) and source.bytes.`;
  return check(Buffer.from(image.source.bytes, "base64")) ? undefined : `The image at ${where} is not a valid ${image.format} image.`;
}

/** Why Converse would refuse the turns (order, roles, blocks), or undefined. */
function turnsProblem(messages: readonly { role?: unknown; content?: unknown }[]): string | undefined {
  if (messages[0]?.role !== "user") return "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
  for (const [i, message] of messages.entries()) {
    if (i > 0 && message.role === messages[i - 1].role) {
      return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";
    }
    if (message.role !== "user" && message.role !== "assistant") return `messages.${i}.role must be user or assistant.`;
    if (!Array.isArray(message.content) || message.content.length === 0) return `messages.${i}.content must hold at least one content block.`;
    for (const [j, block] of (message.content as Record<string, unknown>[]).entries()) {
      const problem = blockProblem(block, `messages.${i}.content.${j}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Why Converse would refuse the body (ValidationException), or undefined. */
export function bodyProblem(body: unknown): string | undefined {
  const { messages, system, inferenceConfig } = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (!Array.isArray(messages)) return "1 validation error detected: Value null at 'messages' failed to satisfy constraint: Member must not be null";
  const maxTokens = (inferenceConfig as { maxTokens?: unknown } | undefined)?.maxTokens;
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) {
    return `1 validation error detected: Value '${String(maxTokens)}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1`;
  }
  if (system !== undefined && !(Array.isArray(system) && system.every((s: { text?: unknown }) => typeof s.text === "string" && s.text.trim() !== ""))) {
    return "The text field in a SystemContentBlock object is blank. Add text to the text field, and try again.";
  }
  return turnsProblem(messages as { role?: unknown; content?: unknown }[]);
}

/** The last user turn's text. */
export function lastUserText(call: StandInConverseCall): string {
  const turn = [...call.body.messages].reverse().find((m) => m.role === "user");
  return (turn?.content ?? []).map((b) => (typeof b.text === "string" ? b.text : "")).join(" ").trim();
}

/** About one token per four characters of text, plus a fixed count per picture. */
export function inputTokensOf(body: StandInConverseBody): number {
  const blocks = [...(body.system ?? []), ...body.messages.flatMap((m) => m.content)] as Record<string, unknown>[];
  const chars = blocks.reduce((n, b) => n + (typeof b.text === "string" ? b.text.length : 0), 0);
  return Math.ceil(chars / 4) + blocks.filter((b) => "image" in b).length * TOKENS_PER_IMAGE;
}
