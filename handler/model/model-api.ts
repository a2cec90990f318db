import type { ChatMessage, StreamedAnswer } from "./ollama";

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
  ): Promise<StreamedAnswer>;
  /** The names of the models the server has. */
  listModels(): Promise<string[]>;
  /** The server's version. */
  version(): Promise<string>;
}
