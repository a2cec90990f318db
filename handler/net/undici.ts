import type { Dispatcher } from "undici";
import Agent from "undici/lib/dispatcher/agent";
import apiRequest from "undici/lib/api/api-request";

/** Options of {@link undiciRequest}: undici's request options with the URL split off. */
export interface UndiciRequestOptions {
  readonly method: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array | null;
  readonly signal?: AbortSignal;
  /** @default - one keep-alive Agent shared by the whole process ({@link defaultDispatcher}) */
  readonly dispatcher?: Dispatcher;
}

let shared: Dispatcher | undefined;

/** The process-wide keep-alive connection pool, created on first use. */
export function defaultDispatcher(): Dispatcher {
  shared ??= new Agent({ keepAliveTimeout: 4_000 });
  return shared;
}

/**
 * A keep-alive pool that trusts only `caPem` (a pinned self-signed certificate) and checks the
 * server's host name or IP address against the certificate's subjectAltName (Node's default
 * identity check): another certificate, even a valid public one, is refused.
 */
export function pinnedDispatcher(caPem: string): Dispatcher {
  return new Agent({ keepAliveTimeout: 4_000, connect: { ca: caPem, rejectUnauthorized: true } });
}

/**
 * undici's `request` without loading undici's index (see undici-internals.d.ts): the same
 * call, on the given dispatcher or the shared one.
 */
export function undiciRequest(url: string, options: UndiciRequestOptions): Promise<Dispatcher.ResponseData> {
  const target = new URL(url);
  return apiRequest.call(options.dispatcher ?? defaultDispatcher(), {
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method: options.method,
    headers: options.headers,
    body: options.body,
    signal: options.signal,
  });
}
