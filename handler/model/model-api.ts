import type { ChatMessage, StreamedAnswer } from "./ollama";

/** Options of {@link ModelApi.chatStream}. */
export interface ChatStreamOptions {
  /**
   * Ask a reasoning model (capability `thinking`) to think apart from its answer (Ollama's
   * `think: true`): the reasoning then arrives in `message.thinking`, never in the content.
   * @default - not sent: the model's own behaviour (some write `<think>` tags into the content)
   */
  readonly think?: boolean;
  /** Called with each piece of reasoning as it arrives (with `think`). @default - reasoning only collected */
  readonly onThinking?: (text: string) => void;
}

/** What the model server says about one model. */
export interface ModelInfo {
  /** Ollama's capabilities, e.g. `completion`, `vision`, `thinking`, `tools`; [] when it names none. */
  readonly capabilities: readonly string[];
}

/**
 * The port the chat path and /status use to reach the model server; OllamaClient (ollama.ts)
 * is its adapter, and tests may drive any implementation.
 */
export interface ModelApi {
  /**
   * Streams an answer, calling `onDelta` with each piece of text; `signal` ends the request
   * (the server then stops generating).
   */
  chatStream(
    model: string,
    messages: readonly ChatMessage[],
    onDelta: (text: string) => void,
    signal?: AbortSignal,
    options?: ChatStreamOptions,
  ): Promise<StreamedAnswer>;
  /** What the server says about a model (Ollama's POST /api/show). */
  showModel(model: string): Promise<ModelInfo>;
  /** The names of the models the server has. */
  listModels(): Promise<string[]>;
  /** The server's version. */
  version(): Promise<string>;
}
