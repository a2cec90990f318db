import type { DocumentClient } from "./document-client";
import { isConditionFailed } from "./dynamo";
import { MARK_IN_PROGRESS } from "./update-marks";
import { answeringSk, expiresAfter, TTL_ATTRIBUTE, updateSk } from "./table-layout";

/**
 * Stop requests for answers that are streaming, kept in DynamoDB because the answer and the
 * stop arrive in different invocations (in queue mode, in different message groups):
 * - while an answer streams, `ANSWERING#<chat_id>` under the user's pk names its update
 *   (`update_id`, `answering_until`), so `/stop` can find it; it is not removed when the answer
 *   ends (the mark says so), and the chat's next answer overwrites it;
 * - a stop is `stop_requested_at` on that update's own mark, set only while the mark is in
 *   progress (so a stop after the end says so instead of flagging a finished answer); the
 *   answer reads it about once a second with a consistent read.
 * No transactions: each step is one conditional single-item write.
 */

/** What a stop request found. */
export type StopOutcome = "stopping" | "ended";

/** Options of {@link StopRequests}. */
export interface StopRequestsOptions {
  readonly doc: DocumentClient;
  readonly tableName: string;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** See the module comment. */
export class StopRequests {
  private readonly doc: DocumentClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: StopRequestsOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
  }

  /** Records that `updateId`'s answer streams in `chatId` for at most `forMs`. */
  async markAnswering(userId: number, chatId: number, updateId: number, forMs: number): Promise<void> {
    const now = this.now();
    await this.doc.put({
      TableName: this.table,
      Item: { pk: userId, sk: answeringSk(chatId), update_id: updateId, answering_until: now + forMs, [TTL_ATTRIBUTE]: expiresAfter(now + forMs, 86_400) },
    });
  }

  /** The update whose answer streams in `chatId` now, if any (a record past its time is none). */
  async answeringIn(userId: number, chatId: number): Promise<number | undefined> {
    const { Item } = await this.doc.get({ TableName: this.table, Key: { pk: userId, sk: answeringSk(chatId) }, ConsistentRead: true });
    if (!Item || typeof Item.update_id !== "number" || Number(Item.answering_until) < this.now()) return undefined;
    return Item.update_id;
  }

  /** Asks `updateId`'s answer to stop: "ended" when its update is no longer being handled. */
  async requestStop(userId: number, updateId: number): Promise<StopOutcome> {
    try {
      await this.doc.update({
        TableName: this.table,
        Key: { pk: userId, sk: updateSk(updateId) },
        UpdateExpression: "SET stop_requested_at = if_not_exists(stop_requested_at, :now)",
        ConditionExpression: "#status = :progress",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":progress": MARK_IN_PROGRESS, ":now": this.now() },
      });
      return "stopping";
    } catch (err) {
      if (isConditionFailed(err)) return "ended";
      throw err;
    }
  }

  /** True once a stop was requested for `updateId`'s answer (one consistent read of its mark). */
  async stopRequested(userId: number, updateId: number): Promise<boolean> {
    const { Item } = await this.doc.get({
      TableName: this.table,
      Key: { pk: userId, sk: updateSk(updateId) },
      ConsistentRead: true,
      ProjectionExpression: "stop_requested_at",
    });
    return Item?.stop_requested_at !== undefined;
  }
}
