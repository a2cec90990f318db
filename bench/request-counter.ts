/**
 * Counts AWS SDK requests by operation with a middleware on the clients themselves, so every
 * command the handler sends (through the DynamoDB document client or the S3 client) is
 * counted where it leaves, whatever code sent it.
 */

import type { S3Client } from "@aws-sdk/client-s3";
import type { DocumentClient } from "../handler/store/document-client";

/** A client the counter can attach to: the DynamoDB document client or the S3 client. */
export type CountableClient = Pick<DocumentClient, "middlewareStack"> | Pick<S3Client, "middlewareStack">;

/** What the counter uses of a middleware stack (both clients' stacks have it). */
interface AddableStack {
  add(
    middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
    options: { step: "initialize"; name: string },
  ): void;
}

/** Requests counted since the last reset. */
export interface RequestCounts {
  /** All operations. */
  readonly total: number;
  /** Per operation name, e.g. { GetItem: 2, PutItem: 1, PutObject: 1 }. */
  readonly byOperation: Readonly<Record<string, number>>;
}

/** A counter shared by any number of clients. */
export interface RequestCounter {
  /** Adds the counting middleware to a client (once per client). */
  attach(client: CountableClient): void;
  /** Counts since the last reset. */
  read(): RequestCounts;
  /** Starts counting from zero. */
  reset(): void;
  /** Resets, runs `work`, and returns what it sent. */
  during(work: () => Promise<unknown>): Promise<RequestCounts>;
}

/** The name of the counter's middleware on each client. */
export const COUNTER_MIDDLEWARE_NAME = "benchRequestCounter";

/**
 * The operation of an SDK command name: "GetItemCommand" -> "GetItem". The document client's
 * commands reach the middleware under the low-level command's name. Pure.
 */
export function operationName(commandName: string | undefined): string {
  if (!commandName) return "unknown";
  return commandName.endsWith("Command") && commandName.length > "Command".length ? commandName.slice(0, -"Command".length) : commandName;
}

/**
 * Creates a request counter. It counts at the initialize step: one per API call the code
 * made (the SDK's own retries of a call are not counted again).
 */
export function createRequestCounter(): RequestCounter {
  const counts = new Map<string, number>();
  const attached = new WeakSet<object>();
  const read = (): RequestCounts => {
    const byOperation = Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
    return { total: [...counts.values()].reduce((a, b) => a + b, 0), byOperation };
  };
  return {
    attach(client) {
      if (attached.has(client.middlewareStack)) return;
      attached.add(client.middlewareStack);
      (client.middlewareStack as unknown as AddableStack).add(
        (next, context) => async (args) => {
          const name = operationName(context.commandName);
          counts.set(name, (counts.get(name) ?? 0) + 1);
          return next(args);
        },
        { step: "initialize", name: COUNTER_MIDDLEWARE_NAME },
      );
    },
    read,
    reset: () => counts.clear(),
    async during(work) {
      counts.clear();
      await work();
      return read();
    },
  };
}
