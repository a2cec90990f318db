/**
 * The stand-in's update delivery: the setWebhook state and the getUpdates queue with its long
 * polls, which Telegram keeps mutually exclusive (getUpdates answers 409 while a webhook is set).
 */
import { ApiError, badRequest, toBoolean, toInteger, toStringArray, type Json, type WebhookState } from "./wire";

interface PollWaiter {
  readonly wake: () => void;
}

/** The webhook state and the queue of updates not yet confirmed by a getUpdates offset. */
export class UpdateFeed {
  /** Current setWebhook state. */
  webhook: WebhookState = { url: "" };
  private readonly updates: Json[] = [];
  private readonly waiters = new Set<PollWaiter>();
  private stopped = false;

  /** Queues an update for getUpdates (and wakes a long poll). */
  push(update: object): void {
    this.updates.push(update as Json);
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /** Forgets queued updates and the webhook. */
  reset(): void {
    this.updates.length = 0;
    this.webhook = { url: "" };
  }

  /** Ends every long poll now, and any later one at once. */
  stop(): void {
    this.stopped = true;
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  setWebhook(params: Json): true {
    const url = typeof params.url === "string" ? params.url : "";
    if (url !== "" && !/^https:\/\//i.test(url)) throw badRequest("bad webhook: An HTTPS URL must be provided for webhook");
    const secret = params.secret_token;
    if (secret !== undefined && (typeof secret !== "string" || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))) {
      throw badRequest("secret token contains unallowed characters");
    }
    const allowedUpdates = toStringArray(params.allowed_updates);
    const dropPendingUpdates = toBoolean(params.drop_pending_updates);
    if (dropPendingUpdates) this.updates.length = 0;
    this.webhook = {
      url,
      ...(typeof secret === "string" ? { secretToken: secret } : {}),
      ...(allowedUpdates ? { allowedUpdates } : {}),
      ...(dropPendingUpdates !== undefined ? { dropPendingUpdates } : {}),
    };
    return true;
  }

  deleteWebhook(params: Json): true {
    if (toBoolean(params.drop_pending_updates)) this.updates.length = 0;
    this.webhook = { url: "" };
    return true;
  }

  getWebhookInfo(): Json {
    const w = this.webhook;
    return {
      url: w.url,
      has_custom_certificate: false,
      pending_update_count: this.updates.length,
      ...(w.url !== "" ? { max_connections: 40, ip_address: "127.0.0.1" } : {}),
      ...(w.lastErrorDate !== undefined ? { last_error_date: w.lastErrorDate } : {}),
      ...(w.lastErrorMessage !== undefined ? { last_error_message: w.lastErrorMessage } : {}),
      ...(w.allowedUpdates ? { allowed_updates: w.allowedUpdates } : {}),
    };
  }

  async getUpdates(params: Json): Promise<Json[]> {
    if (this.webhook.url !== "") {
      throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    }
    const offset = toInteger(params.offset);
    const limit = Math.min(Math.max(toInteger(params.limit) ?? 100, 1), 100);
    const timeoutSeconds = Math.max(toInteger(params.timeout) ?? 0, 0);
    if (offset !== undefined && offset > 0) {
      // Confirms every update below offset.
      const keep = this.updates.filter((u) => Number(u.update_id) >= offset);
      this.updates.splice(0, this.updates.length, ...keep);
    }
    const pick = () => (offset !== undefined && offset < 0 ? this.updates.slice(offset) : this.updates).slice(0, limit);
    if (pick().length === 0 && timeoutSeconds > 0 && !this.stopped) {
      await new Promise<void>((resolve) => {
        const waiter: PollWaiter = {
          wake: () => {
            this.waiters.delete(waiter);
            clearTimeout(timer);
            resolve();
          },
        };
        const timer = setTimeout(() => waiter.wake(), timeoutSeconds * 1000);
        this.waiters.add(waiter);
      });
    }
    return pick();
  }
}
