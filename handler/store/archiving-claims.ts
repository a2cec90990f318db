import type { DocumentClient } from "./document-client";
import { updateIf } from "./dynamo";
import type { ArchivingClaim } from "./session-items";
import { sessionSk } from "./table-layout";

/**
 * Archiving claims on live sessions: `archiving_by` and `archiving_until` on the session item.
 * Two /archive commands for one session can then never write and withdraw each other's S3
 * object. Each step is one conditional write on the session item (no transactions).
 */

/** Options of {@link ArchivingClaims}. */
export interface ArchivingClaimsOptions {
  readonly doc: DocumentClient;
  readonly tableName: string;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}

/** See the module comment. */
export class ArchivingClaims {
  private readonly doc: DocumentClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: ArchivingClaimsOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
  }

  /**
   * Claims a session for archiving, for `leaseMs`. Granted when nobody holds it, when the
   * holder's lease has expired (its invocation died), or to the same `owner` again (a
   * redelivery of the same update). "gone" when the session no longer exists.
   */
  async claim(userId: number, sessionId: string, owner: string, leaseMs: number): Promise<ArchivingClaim> {
    const now = this.now();
    const Key = { pk: userId, sk: sessionSk(sessionId) };
    const claimed = await updateIf(this.doc, {
      TableName: this.table,
      Key,
      UpdateExpression: "SET archiving_by = :owner, archiving_until = :until",
      ConditionExpression: "attribute_exists(sk) AND (attribute_not_exists(archiving_until) OR archiving_until < :now OR archiving_by = :owner)",
      ExpressionAttributeValues: { ":owner": owner, ":until": now + leaseMs, ":now": now },
    });
    if (claimed) return "claimed";
    const { Item } = await this.doc.get({ TableName: this.table, Key, ConsistentRead: true, ProjectionExpression: "sk" });
    return Item ? "busy" : "gone";
  }

  /** Gives up `owner`'s claim on a session that stays live; nothing if it holds none or the session is gone. */
  async release(userId: number, sessionId: string, owner: string): Promise<void> {
    await updateIf(this.doc, {
      TableName: this.table,
      Key: { pk: userId, sk: sessionSk(sessionId) },
      UpdateExpression: "REMOVE archiving_by, archiving_until",
      ConditionExpression: "archiving_by = :owner",
      ExpressionAttributeValues: { ":owner": owner },
    });
  }
}
