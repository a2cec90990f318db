/**
 * Types for the two undici modules the handler loads directly. undici's index loads every
 * feature (fetch, WebSocket, caches, mocks): about 240 KB more bundle and 70 ms more cold start
 * than the Agent and the request API alone.
 */
declare module "undici/lib/dispatcher/agent" {
  import { Agent } from "undici";
  export = Agent;
}

declare module "undici/lib/api/api-request" {
  import type { Dispatcher } from "undici";
  function request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export = request;
}
