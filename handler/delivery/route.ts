import { routeMessage, type MessageKind } from "../conversation/router";
import type { UpdateContext } from "../conversation/update-context";
import { reportFailure } from "./complete";

/**
 * Step 6 of the webhook pipeline: hand the claimed update to its command, the chat path or the
 * import. Never rejects: a failure is logged once and the user is told (see reportFailure).
 */
export async function routeUpdate(ctx: UpdateContext, kind: MessageKind): Promise<void> {
  const started = Date.now();
  try {
    await routeMessage(ctx, kind);
    ctx.log.info("update handled", { action: "handle_update", outcome: "success", kind: kind.kind, duration_ms: Date.now() - started });
  } catch (err) {
    await reportFailure(ctx, err);
  }
}
