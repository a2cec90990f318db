import type { DocumentClient, Item } from "./document-client";
import { isConditionFailed } from "./dynamo";
import { TTL_ATTRIBUTE, expiresAfter, updateSk } from "./table-layout";

/**
 * Update marks: one item per Telegram update_id (sk `UPDATE#<update_id>` under the user's pk),
 * so a redelivered update has no second effect. Claiming is a conditional write; a mark whose
 * handling died (crash, timeout) can be claimed again once its lease has expired, or at once
 * when the caller knows the earlier attempt is gone (an SQS redelivery). Marks expire through
 * the table's TTL attribute.
 *
 * A mark is also the update's journal: what its handling decided and did, recorded before it
 * matters, so a rerun after a crash part-way through repeats none of it (see
 * {@link MarkJournal}). Every journal write is conditioned on the mark still being in progress.
 */

/** What an earlier attempt of the same update recorded; empty on the first attempt. */
export interface MarkJournal {
  /** Attempts that claimed this update, this one included (1 on the first). */
  readonly attempts: number;
  /** What commands resolved (a position to a session id...), by name. */
  readonly resolved: Readonly<Record<string, string>>;
  /** Outgoing messages whose sending began, counted in order (the reply parts of a command). */
  readonly sendsBegun: number;
  /** The chat answer whose final delivery began: its text as shown, and parts begun of the total. */
  readonly answer?: { readonly text: string; readonly partsBegun: number; readonly parts: number };
  /** Messages of a chat answer that were sent while it streamed, before its final delivery. */
  readonly liveMessageIds: readonly number[];
}

/** What a claim found. */
export type ClaimResult =
  /** This invocation owns the update: handle it (the journal says what earlier attempts did), then complete it. */
  | { readonly outcome: "claimed"; readonly journal: MarkJournal }
  /** An earlier delivery finished it: do nothing. */
  | { readonly outcome: "completed" }
  /** Another delivery is handling it right now (its lease has not expired): do nothing now. */
  | { readonly outcome: "in_progress" };

/** The outcome names alone, for logs. */
export type ClaimOutcome = ClaimResult["outcome"];

/** Options of {@link UpdateMarks.claim}. */
export interface ClaimOptions {
  /** The lease: how long this attempt may still run, plus a margin, in ms. */
  readonly leaseMs: number;
  /**
   * Take over a mark in progress even before its lease has ended, because the earlier attempt
   * is known to be gone (SQS redelivers a record only after its visibility timeout).
   * @default false
   */
  readonly takeOver?: boolean;
}

/** Options of {@link UpdateMarks}. */
export interface UpdateMarksOptions {
  readonly doc: DocumentClient;
  readonly tableName: string;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Days before DynamoDB's TTL removes a mark. @default 7 */
  readonly ttlDays?: number;
}

/** The status of a mark whose update is being handled. */
export const MARK_IN_PROGRESS = "IN_PROGRESS";
const IN_PROGRESS = MARK_IN_PROGRESS;
/** Attribute name prefix of what commands resolved (one attribute each, so one write records one). */
const RESOLVED_PREFIX = "resolved_";
const COMPLETED = "COMPLETED";

/** The journal recorded on a mark item. Pure. */
export function journalOf(item: Item): MarkJournal {
  const resolved = Object.entries(item)
    .filter((entry): entry is [string, string] => entry[0].startsWith(RESOLVED_PREFIX) && typeof entry[1] === "string")
    .map(([name, value]) => [name.slice(RESOLVED_PREFIX.length), value] as const);
  const text = item.answer_text;
  return {
    attempts: Number(item.attempts ?? 1),
    resolved: Object.fromEntries(resolved),
    sendsBegun: Number(item.sends_begun ?? 0),
    ...(typeof text === "string"
      ? { answer: { text, partsBegun: Number(item.answer_parts_begun ?? 1), parts: Number(item.answer_parts ?? 1) } }
      : {}),
    liveMessageIds: Array.isArray(item.live_message_ids) ? item.live_message_ids.map(Number) : [],
  };
}

/** Conditional-write idempotency, and the journal, for Telegram updates. */
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
   * Claims an update (one UpdateItem, which also returns the journal): succeeds when no mark
   * exists, or when the mark is in progress and its lease has expired (or `takeOver`).
   */
  async claim(userId: number, updateId: number, options: ClaimOptions): Promise<ClaimResult> {
    const now = this.now();
    try {
      const result = await this.doc.update({
        TableName: this.table,
        Key: this.key(userId, updateId),
        UpdateExpression:
          "SET #status = :progress, lease_expires_at = :lease, claimed_at = :now, #ttl = if_not_exists(#ttl, :ttl) ADD attempts :one",
        ConditionExpression: options.takeOver
          ? "attribute_not_exists(sk) OR #status = :progress"
          : "attribute_not_exists(sk) OR (#status = :progress AND lease_expires_at < :now)",
        ExpressionAttributeNames: { "#status": "status", "#ttl": TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ":progress": IN_PROGRESS,
          ":lease": now + options.leaseMs,
          ":now": now,
          ":ttl": expiresAfter(now, this.ttlSeconds),
          ":one": 1,
        },
        ReturnValues: "ALL_NEW",
      });
      return { outcome: "claimed", journal: journalOf(result.Attributes ?? {}) };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const existing = await this.doc.get({ TableName: this.table, Key: this.key(userId, updateId), ConsistentRead: true });
    return existing.Item?.status === COMPLETED ? { outcome: "completed" } : { outcome: "in_progress" };
  }

  /** Marks the update handled: later deliveries of it are ignored until the mark expires. */
  async complete(userId: number, updateId: number): Promise<void> {
    await this.doc.update({
      TableName: this.table,
      Key: this.key(userId, updateId),
      UpdateExpression: "SET #status = :done, completed_at = :now REMOVE lease_expires_at",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":done": COMPLETED, ":now": this.now() },
    });
  }

  /**
   * Gives up this attempt's lease without completing the update (its answer could not be
   * delivered for now), so the next delivery of it is handled at once, journal and all.
   */
  async release(userId: number, updateId: number): Promise<void> {
    await this.record(userId, updateId, "SET lease_expires_at = :zero", {}, { ":zero": 0 });
  }

  /** Records what a command resolved (`name` → `value`) on the journal. */
  async recordResolved(userId: number, updateId: number, name: string, value: string): Promise<void> {
    await this.record(userId, updateId, "SET #name = :value", { "#name": `${RESOLVED_PREFIX}${name}` }, { ":value": value });
  }

  /** Records that outgoing send number `count` (1-based) began. */
  async recordSendBegun(userId: number, updateId: number, count: number): Promise<void> {
    await this.record(userId, updateId, "SET sends_begun = :count", {}, { ":count": count });
  }

  /** Records that final part `partsBegun` (1-based) of `parts` of the chat answer `text` began. */
  async recordAnswerBegun(userId: number, updateId: number, text: string, partsBegun: number, parts: number): Promise<void> {
    await this.record(
      userId,
      updateId,
      "SET answer_text = :text, answer_parts_begun = :begun, answer_parts = :parts",
      {},
      { ":text": text, ":begun": partsBegun, ":parts": parts },
    );
  }

  /** Records a message of the chat answer sent while it streamed. */
  async recordLiveMessage(userId: number, updateId: number, messageId: number): Promise<void> {
    await this.record(
      userId,
      updateId,
      "SET live_message_ids = list_append(if_not_exists(live_message_ids, :none), :id)",
      {},
      { ":none": [], ":id": [messageId] },
    );
  }

  private key(userId: number, updateId: number): Item {
    return { pk: userId, sk: updateSk(updateId) };
  }

  /** One journal write, only while the mark is in progress. */
  private async record(userId: number, updateId: number, set: string, names: Record<string, string>, values: Item): Promise<void> {
    await this.doc.update({
      TableName: this.table,
      Key: this.key(userId, updateId),
      UpdateExpression: set,
      ConditionExpression: "#status = :progress",
      ExpressionAttributeNames: { "#status": "status", ...names },
      ExpressionAttributeValues: { ":progress": IN_PROGRESS, ...values },
    });
  }
}
