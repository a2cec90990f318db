import type { DocumentClient } from "./document-client";
import { isConditionFailed } from "./dynamo";
import { TTL_ATTRIBUTE, expiresAfter, updateSk } from "./table-layout";

/**
 * Update marks: one item per Telegram update_id (sk `UPDATE#<update_id>` under the user's pk),
 * so a redelivered update has no second effect. Claiming is a conditional put; a mark whose
 * handling died (crash, timeout) can be claimed again once its lease has expired. Marks carry
 * `ttl` (epoch seconds) and disappear through the table's TTL.
 */


/** What a claim found. */
export type ClaimOutcome =
  /** This invocation owns the update: handle it, then {@link UpdateMarks.complete}. */
  | "claimed"
  /** An earlier delivery finished it: do nothing. */
  | "completed"
  /** Another delivery is handling it right now (its lease has not expired): do nothing. */
  | "in_progress";

/** Options of {@link UpdateMarks}. */
export interface UpdateMarksOptions {
  readonly doc: DocumentClient;
  readonly tableName: string;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Days before DynamoDB's TTL removes a mark. @default 7 */
  readonly ttlDays?: number;
}

/** Conditional-write idempotency for webhook updates. */
export class UpdateMarks {
  private readonly doc: DocumentClient;
  private readonly table: string;
  private readonly now: () => number;
  private readonly ttlSeconds: number;

  constructor(options: UpdateMarksOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
    this.ttlSeconds = (options.ttlDays ?? 7) * 86_400;
  }

  /**
   * Claims an update for `leaseMs` (the invocation's remaining time plus a margin): succeeds
   * when no mark exists, or when the mark is in progress and its lease has expired.
   */
  async claim(userId: number, updateId: number, leaseMs: number): Promise<ClaimOutcome> {
    const now = this.now();
    try {
      await this.doc.put({
        TableName: this.table,
        Item: {
          pk: userId,
          sk: updateSk(updateId),
          status: "IN_PROGRESS",
          lease_expires_at: now + leaseMs,
          claimed_at: now,
          [TTL_ATTRIBUTE]: expiresAfter(now, this.ttlSeconds),
        },
        ConditionExpression: "attribute_not_exists(sk) OR (#status = :progress AND lease_expires_at < :now)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":progress": "IN_PROGRESS", ":now": now },
      });
      return "claimed";
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const existing = await this.doc.get({ TableName: this.table, Key: { pk: userId, sk: updateSk(updateId) }, ConsistentRead: true });
    return existing.Item?.status === "COMPLETED" ? "completed" : "in_progress";
  }

  /** Marks the update handled: later deliveries of it are ignored until the mark expires. */
  async complete(userId: number, updateId: number): Promise<void> {
    await this.doc.update({
      TableName: this.table,
      Key: { pk: userId, sk: updateSk(updateId) },
      UpdateExpression: "SET #status = :done, completed_at = :now REMOVE lease_expires_at",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":done": "COMPLETED", ":now": this.now() },
    });
  }
}
