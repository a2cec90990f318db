/**
 * Amazon Bedrock's Converse wire, as far as the bot speaks it, and nothing else: the request
 * body ConverseStream takes, the path it is posted to, and the names and statuses of its
 * errors. Pure functions only; bedrock.ts does the I/O. Shapes follow the Converse API
 * reference and @aws-sdk/client-bedrock-runtime's schemas (ConverseStreamRequest, Message,
 * ContentBlock, ImageBlock, InferenceConfiguration).
 */
import type { ChatMessage } from "./model-api";

/**
 * Most tokens an answer may have when the caller names no maximum: Converse needs none, but
 * each model's own default differs (some as low as 512), so the bot always sends one.
 */
export const DEFAULT_BEDROCK_MAX_TOKENS = 2048;

/** The picture formats Converse takes in an image block (WebP, GIF, PNG, JPEG). */
export type ConverseImageFormat = "jpeg" | "png" | "gif" | "webp";

/** One content block the bot sends: text, or a picture as base64 bytes. */
export type ConverseContentBlock =
  | { readonly text: string }
  | { readonly image: { readonly format: ConverseImageFormat; readonly source: { readonly bytes: string } } };

/** One turn of a Converse conversation. */
export interface ConverseMessage {
  readonly role: "user" | "assistant";
  readonly content: readonly ConverseContentBlock[];
}

/** The JSON body of POST /model/{modelId}/converse-stream, as the bot sends it. */
export interface ConverseRequest {
  readonly messages: readonly ConverseMessage[];
  /** The system prompt's blocks. @default - no system prompt (left out of the body) */
  readonly system?: readonly { readonly text: string }[];
  readonly inferenceConfig: { readonly maxTokens: number };
}

/** Options of {@link converseRequestOf}. */
export interface ConverseRequestOptions {
  /** Most tokens of the answer; a value that is not a positive integer counts as unset. @default DEFAULT_BEDROCK_MAX_TOKENS */
  readonly maxTokens?: number;
}

/** Magic bytes of each format, at the offsets they sit at. */
const MAGIC: readonly { readonly format: ConverseImageFormat; readonly at: number; readonly bytes: readonly number[] }[] = [
  { format: "jpeg", at: 0, bytes: [0xff, 0xd8, 0xff] },
  { format: "png", at: 0, bytes: [0x89, 0x50, 0x4e, 0x47] },
  { format: "gif", at: 0, bytes: [0x47, 0x49, 0x46, 0x38] },
  // RIFF....WEBP: the container's tag is at 0, the format's at 8.
  { format: "webp", at: 8, bytes: [0x57, 0x45, 0x42, 0x50] },
];

/**
 * The format of a base64-encoded picture, from its first bytes. Converse refuses a block whose
 * format does not match its bytes; an unknown signature counts as JPEG, what Telegram sends
 * for photos. Pure.
 */
export function imageFormatOf(base64: string): ConverseImageFormat {
  // 16 base64 characters are 12 bytes: enough for the WebP tag at offset 8.
  const head = Buffer.from(base64.slice(0, 16), "base64");
  const found = MAGIC.find(({ at, bytes }) => bytes.every((byte, i) => head[at + i] === byte));
  return found?.format ?? "jpeg";
}

/** A message's blocks: its pictures first (models read them as the text's subject), then its text unless blank. */
function blocksOf(message: ChatMessage): ConverseContentBlock[] {
  const images = (message.images ?? []).map((bytes) => ({ image: { format: imageFormatOf(bytes), source: { bytes } } }));
  // Converse refuses a blank text block ("The text field in the ContentBlock object is blank").
  return message.content.trim() === "" ? images : [...images, { text: message.content }];
}

/**
 * The turns of a chat as Converse takes them: it requires the first turn to be the user's and
 * the roles to alternate, so consecutive turns of one role are merged into one message (their
 * blocks in order), turns with nothing to send are skipped, and assistant turns before the
 * first user turn are dropped (they answered something no longer in the window). System
 * messages are not turns: see {@link converseRequestOf}. Pure.
 */
export function converseMessagesOf(messages: readonly ChatMessage[]): ConverseMessage[] {
  const turns: { role: "user" | "assistant"; content: ConverseContentBlock[] }[] = [];
  for (const message of messages) {
    if (message.role === "system") continue;
    const blocks = blocksOf(message);
    if (blocks.length === 0 || (turns.length === 0 && message.role === "assistant")) continue;
    const last = turns.at(-1);
    if (last?.role === message.role) last.content.push(...blocks);
    else turns.push({ role: message.role, content: blocks });
  }
  return turns;
}

/**
 * The JSON body of a ConverseStream request: the turns (see {@link converseMessagesOf}), every
 * non-blank system message as a `system` block in order, and always `inferenceConfig.maxTokens`.
 * Pure.
 */
export function converseRequestOf(messages: readonly ChatMessage[], options: ConverseRequestOptions = {}): ConverseRequest {
  const system = messages.filter((m) => m.role === "system" && m.content.trim() !== "").map((m) => ({ text: m.content }));
  const maxTokens = Number.isInteger(options.maxTokens) && (options.maxTokens ?? 0) > 0 ? (options.maxTokens as number) : DEFAULT_BEDROCK_MAX_TOKENS;
  return { messages: converseMessagesOf(messages), ...(system.length > 0 ? { system } : {}), inferenceConfig: { maxTokens } };
}

/**
 * The path of ConverseStream for a model id, the id encoded as one path segment the way the
 * SDK encodes it (encodeURIComponent plus `!'()*`): `anthropic.claude-3-haiku-20240307-v1:0`
 * becomes `.../v1%3A0/...`, an inference profile ARN's `/` becomes `%2F`. Pure.
 */
export function converseStreamPath(modelId: string): string {
  const segment = encodeURIComponent(modelId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `/model/${segment}/converse-stream`;
}

/**
 * Bedrock Runtime's errors and the HTTP status each carries (the `httpError` trait of the
 * SDK's schemas). A stream's exception frame has no status of its own, so it takes this one.
 */
export const BEDROCK_ERROR_STATUS: Readonly<Record<string, number>> = {
  AccessDeniedException: 403,
  InternalServerException: 500,
  ModelErrorException: 424,
  ModelNotReadyException: 429,
  ModelStreamErrorException: 424,
  ModelTimeoutException: 408,
  ResourceNotFoundException: 404,
  ServiceQuotaExceededException: 400,
  ServiceUnavailableException: 503,
  ThrottlingException: 429,
  ValidationException: 400,
};

/**
 * One name per error: the SDK's (`ThrottlingException`). An HTTP error names it so in
 * `x-amzn-errortype`, but an exception frame in camel case (`throttlingException`); the
 * first letter is raised so callers match one spelling. Pure.
 */
export function bedrockErrorName(raw: string): string {
  return raw.length > 0 ? raw[0].toUpperCase() + raw.slice(1) : raw;
}

/** The status of an error by its name (see {@link BEDROCK_ERROR_STATUS}); 500 for a name it does not know. Pure. */
export function statusOfBedrockError(name: string): number {
  return BEDROCK_ERROR_STATUS[bedrockErrorName(name)] ?? 500;
}

/**
 * The error's name in a non-200 answer, as the SDK reads it (restJson1): the
 * `x-amzn-errortype` header (`AccessDeniedException:http://internal.amazon.com/coral/...`,
 * the part before `:`; after `#` when namespaced), else the body's `code` or `__type`. Pure.
 */
export function errorNameOf(header: string | undefined, body: unknown): string | undefined {
  const fields = typeof body === "object" && body !== null ? (body as { code?: unknown; __type?: unknown }) : {};
  const raw = header ?? [fields.code, fields.__type].find((v): v is string => typeof v === "string");
  if (raw === undefined) return undefined;
  const name = raw.split(",")[0].split(":")[0];
  const bare = name.includes("#") ? name.split("#")[1] : name;
  return bare.trim() === "" ? undefined : bedrockErrorName(bare.trim());
}

/** The human message of an error body (`message`, or `Message` as some AWS front ends spell it). Pure. */
export function errorMessageOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { message, Message } = body as { message?: unknown; Message?: unknown };
  return [message, Message].find((v): v is string => typeof v === "string");
}
