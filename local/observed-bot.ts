/**
 * A TelegramApi that forwards every call to another one and reports each successful call
 * (method, params, result) to a listener. The terminal chat uses it to print the bot's replies
 * as they are sent, while the calls still travel over HTTP to a real Bot API endpoint.
 */
import type { BotMethods, BotParams, BotResult, TelegramApi } from "../handler/telegram/bot-api";

/** One successful Bot API call. */
export interface ObservedCall {
  readonly method: keyof BotMethods;
  readonly params: unknown;
  readonly result: unknown;
}

/** Wraps `inner`; `listener` runs after each call that succeeded, before its result is returned. */
export function observeBotApi(inner: TelegramApi, listener: (call: ObservedCall) => void): TelegramApi {
  return {
    async call<M extends keyof BotMethods>(method: M, params: BotParams[M]): Promise<BotResult<M>> {
      const result = await inner.call(method, params);
      listener({ method, params, result });
      return result;
    },
    downloadFile: (filePath, maxBytes) => inner.downloadFile(filePath, maxBytes),
  };
}
