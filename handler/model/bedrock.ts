import type { Dispatcher } from "undici";
import { SYNC_OLLAMA_TIMEOUT_MS } from "../../config/defaults";
import { AwsSigner, type CredentialSource, type SignedCall } from "../net/aws-signed";
import { ConnectionError, ServiceError } from "../net/errors";
import { converseEventOf, EventStreamFrames, type ConverseStreamEvent } from "./bedrock-events";
import { converseRequestOf, converseStreamPath, errorMessageOf, errorNameOf, statusOfBedrockError } from "./bedrock-wire";
import type { ChatMessage, ChatStreamOptions, ModelApi, ModelInfo, ProviderHealth, StreamedAnswer, TokenUsage } from "./model-api";

export { converseRequestOf, DEFAULT_BEDROCK_MAX_TOKENS } from "./bedrock-wire";

/** Options of {@link BedrockClient}. */
export interface BedrockClientOptions {
  /** The region the models are called in (and the signature is scoped to), e.g. `eu-central-1`. */
  readonly region: string;
  /**
   * Base URL of Bedrock Runtime (config.ts reads AWS_ENDPOINT_URL_BEDROCK_RUNTIME for it).
   * @default - `https://bedrock-runtime.{region}.amazonaws.com` (`.amazonaws.com.cn` in China)
   */
  readonly endpoint?: string;
  /** @default environmentCredentials (the function's role, from the environment) */
  readonly credentials?: CredentialSource;
  /** undici dispatcher. @default undici's shared keep-alive pool */
  readonly dispatcher?: Dispatcher;
  /** Whole-call timeout of chatStream (headers and the whole stream), in ms. @default SYNC_OLLAMA_TIMEOUT_MS (22000) */
  readonly timeoutMs?: number;
  /** The clock the generation time is measured with, in ms. @default Date.now */
  readonly now?: () => number;
}

/** How the last chatStream ended, which is all health() can say without spending tokens or needing more IAM. */
type LastOutcome = { readonly kind: "none" } | { readonly kind: "ok" } | { readonly kind: "failed"; readonly why: string };

const OPERATION = "converseStream";
/** Longest description kept from Bedrock's error text (after redaction, so no secret is cut in half and kept). */
const MAX_DESCRIPTION = 300;

/** The default endpoint of a region. Pure. */
export function bedrockEndpointOf(region: string): string {
  return `https://bedrock-runtime.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`;
}

/** Why a call failed, in words /status can show (never a secret). Pure. */
function failureOf(err: unknown): string {
  if (err instanceof ServiceError) return err.code ?? `HTTP ${err.status}`;
  if (err instanceof ConnectionError) return err.timedOut ? "timed out" : "could not connect";
  return "could not sign the request";
}

/** What arrived of one answer, and the clock readings of its first and last piece. */
class AnswerSoFar {
  content = "";
  thinking = "";
  stopped = false;
  usage: TokenUsage | undefined;
  private first: number | undefined;
  private last: number | undefined;

  constructor(
    private readonly onDelta: (text: string) => void,
    private readonly onThinking: ((text: string) => void) | undefined,
    private readonly now: () => number,
  ) {}

  /** Applies one event; true once the stream has nothing more to say (metadata after messageStop). */
  apply(event: ConverseStreamEvent): boolean {
    switch (event.kind) {
      case "text":
        this.tick();
        this.content += event.text;
        this.onDelta(event.text);
        return false;
      case "reasoning":
        this.tick();
        this.thinking += event.text;
        this.onThinking?.(event.text);
        return false;
      case "stop":
        this.stopped = true;
        return false;
      case "metadata":
        this.usage = event.usage ?? this.usage;
        return this.stopped;
      case "exception":
        throw new ServiceError({ service: "bedrock", operation: OPERATION, status: statusOfBedrockError(event.name), description: event.message, code: event.name });
      default:
        return false;
    }
  }

  /**
   * The answer. evalDurationNs is measured here, first piece (reasoning included: output
   * tokens count it) to last; metadata's latencyMs is not used, as it also holds the time to
   * the first token.
   */
  answer(completed: boolean): StreamedAnswer {
    const spanMs = this.first !== undefined && this.last !== undefined ? this.last - this.first : 0;
    return {
      content: this.content,
      thinking: this.thinking,
      evalCount: this.usage?.outputTokens,
      evalDurationNs: spanMs > 0 ? Math.round(spanMs * 1e6) : undefined,
      completed,
      ...(this.usage ? { usage: this.usage } : {}),
    };
  }

  private tick(): void {
    const at = this.now();
    this.first ??= at;
    this.last = at;
  }
}

/**
 * Amazon Bedrock's ConverseStream over undici, signed with SigV4 (signing name `bedrock`): no
 * Bedrock SDK client in the bundle, only its event-stream codec and signer. One client per
 * region. Non-200 answers reject with a ServiceError whose `code` is Bedrock's error name
 * (`AccessDeniedException`, `ThrottlingException`, `ValidationException`...), exception
 * frames before any text likewise; refusals and timeouts with a ConnectionError. Every text
 * from AWS is redacted of the signing secrets before it reaches an error.
 */
export class BedrockClient implements ModelApi {
  readonly provider = "bedrock" as const;
  private readonly endpoint: string;
  private readonly signer: AwsSigner;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private last: LastOutcome = { kind: "none" };

  constructor(private readonly options: BedrockClientOptions) {
    this.endpoint = (options.endpoint ?? bedrockEndpointOf(options.region)).replace(/\/+$/, "");
    this.signer = new AwsSigner({ signingName: "bedrock", region: options.region, credentials: options.credentials });
    this.timeoutMs = options.timeoutMs ?? SYNC_OLLAMA_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * Streams an answer from `model` (a model id, inference profile id or ARN), calling
   * `onDelta` with each piece of text and `options.onThinking` with each piece of reasoning.
   * The body is {@link converseRequestOf}'s (system messages in `system`, turns merged to
   * alternate, `maxTokens` always set); `options.think` is not sent, as models that reason
   * send `reasoningContent` apart anyway. Resolves `completed: true` once Bedrock sent
   * messageStop; a stream that breaks after some text (an exception frame, a cut, `signal`)
   * resolves with what arrived and `completed: false`. No retry here (stream-answer.ts).
   */
  async chatStream(
    model: string,
    messages: readonly ChatMessage[],
    onDelta: (text: string) => void,
    signal?: AbortSignal,
    options: ChatStreamOptions = {},
  ): Promise<StreamedAnswer> {
    try {
      const { answer, failure } = await this.converse(model, messages, onDelta, signal, options);
      // A Stop by the user says nothing about Bedrock's health.
      if (!signal?.aborted) this.last = failure === undefined ? { kind: "ok" } : { kind: "failed", why: failure };
      return answer;
    } catch (err) {
      if (!signal?.aborted) this.last = { kind: "failed", why: failureOf(err) };
      throw err;
    }
  }

  /** Bedrock cannot be asked about a model without IAM beyond InvokeModel: `{ capabilities: [] }`, the entry's flags decide. */
  async showModel(_model: string): Promise<ModelInfo> {
    return { capabilities: [] };
  }

  /** The outcome of the last chatStream: asking Bedrock would cost tokens or more IAM. Never rejects. */
  async health(): Promise<ProviderHealth> {
    switch (this.last.kind) {
      case "ok":
        return { reachable: true, detail: "Amazon Bedrock (last answer ok)" };
      case "failed":
        return { reachable: false, reason: `last answer failed: ${this.last.why}` };
      default:
        return { reachable: true, detail: "Amazon Bedrock (no answer yet)" };
    }
  }

  /** One ConverseStream call; `failure` names why a stream that kept its text broke off. */
  private async converse(
    model: string,
    messages: readonly ChatMessage[],
    onDelta: (text: string) => void,
    signal: AbortSignal | undefined,
    options: ChatStreamOptions,
  ): Promise<{ answer: StreamedAnswer; failure?: string }> {
    const call = await this.signer.send({
      url: `${this.endpoint}${converseStreamPath(model)}`,
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/vnd.amazon.eventstream" },
      body: JSON.stringify(converseRequestOf(messages, options)),
      service: "bedrock",
      operation: OPERATION,
      timeoutMs: this.timeoutMs,
      signal,
      dispatcher: this.options.dispatcher,
    });
    const soFar = new AnswerSoFar(onDelta, options.onThinking, this.now);
    try {
      await this.expectOk(call);
      const ended = await this.read(call, soFar);
      if (ended || soFar.stopped) return { answer: soFar.answer(true) };
      if (soFar.content.length > 0) return { answer: soFar.answer(false), failure: "stream cut off" };
      throw new ServiceError({ service: "bedrock", operation: OPERATION, status: 0, description: "the stream ended before any answer" });
    } catch (err) {
      const known = err instanceof ServiceError ? this.redacted(err, call) : call.wrap(err);
      if (soFar.content.length === 0) throw known;
      // Text already arrived: keep it and report the stream as cut off.
      return { answer: soFar.answer(false), failure: failureOf(known) };
    } finally {
      call.done();
      call.response.body.destroy();
    }
  }

  /** Feeds the body's frames to the answer; true when the stream said all it had to (metadata after messageStop). */
  private async read(call: SignedCall, soFar: AnswerSoFar): Promise<boolean> {
    const frames = new EventStreamFrames();
    for await (const chunk of call.response.body) {
      for (const frame of frames.push(chunk as Buffer)) {
        let event: ConverseStreamEvent;
        try {
          event = converseEventOf(frame);
        } catch {
          throw new ServiceError({ service: "bedrock", operation: OPERATION, status: 0, description: "malformed event stream frame" });
        }
        if (soFar.apply(event)) return true;
      }
    }
    if (frames.pendingBytes > 0 && !soFar.stopped) {
      throw new ServiceError({ service: "bedrock", operation: OPERATION, status: 0, description: "the event stream was cut inside a frame" });
    }
    return false;
  }

  /** Rejects (and drains the body) unless the status is 200, naming Bedrock's error as the SDK would. */
  private async expectOk(call: SignedCall): Promise<void> {
    const { statusCode, headers, body } = call.response;
    if (statusCode === 200) return;
    const text = await body.text().catch(() => "");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      parsed = undefined;
    }
    const header = headers["x-amzn-errortype"];
    const code = errorNameOf(Array.isArray(header) ? header[0] : header, parsed);
    const retryAfter = Number(headers["retry-after"]);
    throw new ServiceError({
      service: "bedrock",
      operation: OPERATION,
      status: statusCode,
      description: errorMessageOf(parsed) ?? `HTTP ${statusCode}`,
      ...(code ? { code } : {}),
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    });
  }

  /** The error with its description redacted of the signing secrets and shortened. */
  private redacted(err: ServiceError, call: SignedCall): ServiceError {
    const description = call.redact(err.description).slice(0, MAX_DESCRIPTION);
    if (description === err.description) return err;
    return new ServiceError({
      service: err.service,
      operation: err.operation,
      status: err.status,
      description,
      ...(err.code ? { code: err.code } : {}),
      ...(err.retryAfterSeconds !== undefined ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    });
  }
}
