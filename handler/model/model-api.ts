/**
 * The port every model provider's adapter implements (ollama.ts, bedrock.ts, openai.ts), and
 * the only model types the chat path, /status and the token accounting see: no provider's
 * wire format leaks past its adapter.
 */

/** The providers a model entry may name (config/models.ts). */
export type ProviderName = "ollama" | "bedrock" | "openai";

/** One message of a chat, as the chat path builds it for any provider. */
export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
  /** Pictures for a vision model, base64-encoded JPEG or PNG. @default - none */
  readonly images?: readonly string[];
}

/** Tokens of one answer, as the provider itself counted them (never estimated). */
export interface TokenUsage {
  /** Tokens of the prompt (Ollama `prompt_eval_count`, Bedrock `inputTokens`, OpenAI `prompt_tokens`). */
  readonly inputTokens: number;
  /** Tokens generated (Ollama `eval_count`, Bedrock `outputTokens`, OpenAI `completion_tokens`). */
  readonly outputTokens: number;
}

/** What a streamed answer ended with: the whole text and the provider's own figures about it. */
export interface StreamedAnswer {
  readonly content: string;
  /** The reasoning the provider sent apart from the content. @default "" */
  readonly thinking?: string;
  /** Tokens generated (Ollama `eval_count`, the others' output tokens); with evalDurationNs, the speed. */
  readonly evalCount: number | undefined;
  /**
   * Time spent generating, in nanoseconds: Ollama's `eval_duration`; for the others, from the
   * first streamed piece to the last, as the adapter measured it.
   */
  readonly evalDurationNs: number | undefined;
  /** True when the provider said the answer ended; false when the stream broke off. */
  readonly completed: boolean;
  /** The provider's token counts, when it sent them. @default - not reported */
  readonly usage?: TokenUsage;
}

/** Options of {@link ModelApi.chatStream}. */
export interface ChatStreamOptions {
  /**
   * Ask a reasoning model (capability `thinking`) to think apart from its answer (Ollama's
   * `think: true`): the reasoning then arrives apart, never in the content. Providers that
   * always send reasoning apart (Bedrock's `reasoningContent`, OpenAI-compatible
   * `reasoning_content`) ignore it.
   * @default - not sent: the model's own behaviour (some write `<think>` tags into the content)
   */
  readonly think?: boolean;
  /** Called with each piece of reasoning as it arrives. @default - reasoning only collected */
  readonly onThinking?: (text: string) => void;
  /**
   * Most tokens the answer may have, where the provider takes a maximum (Ollama `num_predict`,
   * Bedrock `inferenceConfig.maxTokens`, OpenAI `max_tokens`). @default - the adapter's own default
   */
  readonly maxTokens?: number;
}

/** What a model server says about one model. */
export interface ModelInfo {
  /** Capabilities, e.g. `completion`, `vision`, `thinking`, `tools`; [] when it names none. */
  readonly capabilities: readonly string[];
}

/** A provider's health, found out without spending tokens (for /status). */
export interface ProviderHealth {
  /** True when the provider answered (or, where it cannot be asked, its last answer succeeded). */
  readonly reachable: boolean;
  /** What it is, e.g. `Ollama 0.13.5`. @default - not said */
  readonly detail?: string;
  /** The model ids the provider says it serves. @default - it cannot list them */
  readonly models?: readonly string[];
  /** Why it is not reachable, in words a user can read (never a secret). @default - not said */
  readonly reason?: string;
}

/**
 * The port the chat path and /status use to reach a model provider. `model` is always the
 * provider's own model id (the entry's `model`), never the name users see.
 */
export interface ModelApi {
  /** Which provider this adapter speaks to. */
  readonly provider: ProviderName;
  /**
   * Streams an answer, calling `onDelta` with each piece of text; `signal` ends the request
   * (the provider then stops generating). Resolves with what arrived when the stream breaks
   * after some text (`completed: false`); rejects with a ServiceError or ConnectionError
   * (handler/net/errors.ts) when it fails before any.
   */
  chatStream(
    model: string,
    messages: readonly ChatMessage[],
    onDelta: (text: string) => void,
    signal?: AbortSignal,
    options?: ChatStreamOptions,
  ): Promise<StreamedAnswer>;
  /**
   * What the provider says about a model: Ollama's POST /api/show. Providers that cannot be
   * asked resolve `{ capabilities: [] }`: the entry's `vision`/`thinking` flags decide.
   */
  showModel(model: string): Promise<ModelInfo>;
  /** The provider's health, without spending tokens. Never rejects. */
  health(): Promise<ProviderHealth>;
}
