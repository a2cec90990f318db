import type { ApiMethods, Opts } from "@grammyjs/types";

/**
 * What a file upload looks like on our side: the bytes and the name Telegram shows.
 * sendDocument sends it as multipart/form-data.
 */
export interface InputFileBytes {
  readonly filename: string;
  readonly data: Uint8Array;
  readonly contentType?: string;
}

/** The Bot API's methods with our upload type. */
export type BotMethods = ApiMethods<InputFileBytes>;
/** Method name → its parameters object. */
export type BotParams = Opts<InputFileBytes>;
/** Method name → what Telegram returns in `result`. */
export type BotResult<M extends keyof BotMethods> = ReturnType<BotMethods[M]>;

/**
 * The contract between code that talks to Telegram and the client that carries the call.
 * The Telegram client implements it; streaming replies, commands and scripts depend on it only,
 * so they can be driven by any endpoint (the real Bot API, the stand-in server in tests).
 * A call resolves with `result` when Telegram says `ok: true`, and otherwise rejects with a
 * `ServiceError` (Telegram answered `ok: false`) or a `ConnectionError` (it could not be reached).
 */
export interface BotApi {
  call<M extends keyof BotMethods>(method: M, params: BotParams[M]): Promise<BotResult<M>>;
}

/** The Bot API plus file downloads (TelegramClient implements it). */
export interface TelegramApi extends BotApi {
  downloadFile(filePath: string, maxBytes: number): Promise<Uint8Array>;
  /**
   * The same Bot API without the client's own retry of a 429, for callers that pace themselves
   * (streamed replies skip stale frames instead of waiting to resend them).
   * @default - the API itself
   */
  readonly withoutRetry?: BotApi;
}
