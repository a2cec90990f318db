import { routeMessage, type MessageKind } from "../conversation/router";
import type { UpdateContext } from "../conversation/update-context";
import { ConnectionError, ServiceError } from "../net/errors";
import { isThrottling } from "../store/dynamo";
import { reportFailure, WILL_RETRY_TEXT } from "./complete";

/**
 * Step 6 of the webhook pipeline: hand the claimed update to its command, the chat path or the
 * import. Never rejects: an update whose answer could not reach the chat for a passing reason
 * is handed back for another delivery ("retry"); any other failure is logged once and the user
 * is told (see reportFailure).
 */

/** What routing concluded: the update is done, or must be delivered again (nothing was lost). */
export type RouteOutcome = "done" | "retry";

/** How failures are treated where the update came from. */
export interface RoutePolicy {
  /**
   * Hand a storage failure that may pass (throttling, DynamoDB or S3 unreachable) back for a
   * later delivery instead of telling the user to send it again: the queue redelivers it.
   * @default false
   */
  readonly retryStorage?: boolean;
}

/** True for a Bot API failure that may pass: a 429, a 5xx, or Telegram not reachable. */
export function isPassingTelegramFailure(err: unknown): boolean {
  if (err instanceof ServiceError) return err.service === "telegram" && (err.status === 429 || err.status >= 500);
  return err instanceof ConnectionError && err.service === "telegram";
}

/** True for a storage failure that may pass: throttling, a 5xx, or DynamoDB/S3 not reachable. */
export function isPassingStorageFailure(err: unknown): boolean {
  if (isThrottling(err)) return true;
  if (err instanceof ConnectionError) return err.service === "dynamodb" || err.service === "s3";
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  if (meta !== undefined) return meta.httpStatusCode === undefined || meta.httpStatusCode >= 500;
  const name = (err as { name?: unknown } | null)?.name;
  return name === "TimeoutError" || name === "NetworkingError";
}

/** Routes the update; see the module comment. */
export async function routeUpdate(ctx: UpdateContext, kind: MessageKind, policy: RoutePolicy = {}): Promise<RouteOutcome> {
  const started = Date.now();
  try {
    await routeMessage(ctx, kind);
    ctx.log.info("update handled", { action: "handle_update", outcome: "success", kind: kind.kind, duration_ms: Date.now() - started });
    return "done";
  } catch (err) {
    const telegram = isPassingTelegramFailure(err);
    if (telegram || (policy.retryStorage === true && isPassingStorageFailure(err))) {
      ctx.log.warn("update not finished; it will be delivered again", {
        action: "handle_update",
        outcome: "retry",
        kind: kind.kind,
        error_kind: err instanceof Error ? err.name : "unknown",
        status: err instanceof ServiceError ? err.status : undefined,
        attempts: ctx.journal.recorded.attempts,
      });
      if (!telegram && !ctx.journal.rerun) {
        await ctx.notify(WILL_RETRY_TEXT);
      }
      return "retry";
    }
    await reportFailure(ctx, err);
    return "done";
  }
}
