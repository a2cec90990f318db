import { randomUUID } from "node:crypto";
import type { DocumentClient, Item, UpdateInput, WriteRequest } from "./document-client";
import { ArchivingClaims } from "./archiving-claims";
import { batchWriteAll, isConditionFailed, updateIf } from "./dynamo";
import {
  SessionChangedError,
  compareSessions,
  factsUpdate,
  toMessage,
  toSession,
  type ActiveLookup,
  type AppendedMessage,
  type MessageRole,
  type Session,
  type SessionFacts,
  type StoredMessage,
} from "./session-items";
import { PROFILE_SK, SESSION_PREFIX, messagePrefix, messageSk, sessionSk } from "./table-layout";

/**
 * Live sessions in the sessions table (the item layout is in table-layout.ts, the items' shapes
 * in session-items.ts).
 */

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  readonly doc: DocumentClient;
  readonly tableName: string;
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Session id factory. @default crypto.randomUUID */
  readonly newId?: () => string;
}

/**
 * One method per store operation on live sessions. A chat message costs a constant number of
 * requests, whatever the number of sessions or messages: {@link getActiveSessionId} (one read),
 * {@link appendMessageWithSession} (two writes, the first of which returns the session item, so
 * it needs no read of its own), {@link recentMessages} (one), {@link appendMessage} (two).
 */
export class SessionStore {
  private readonly doc: DocumentClient;
  private readonly table: string;
  private readonly now: () => number;
  private readonly newId: () => string;
  /** Archiving claims on these sessions (archiving-claims.ts). */
  readonly archiving: ArchivingClaims;

  constructor(options: SessionStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? randomUUID;
    this.archiving = new ArchivingClaims(options);
  }

  /** The user's active session id and that session's item: two GetItem-sized reads. */
  async getActive(userId: number): Promise<ActiveLookup> {
    const activeSessionId = await this.getActiveSessionId(userId);
    if (!activeSessionId) return { activeSessionId: undefined, session: undefined };
    return { activeSessionId, session: await this.getSession(userId, activeSessionId) };
  }

  /**
   * The profile's active_session_id (the truth about which session is active), or undefined:
   * one consistent GetItem. The session it names may have been archived meanwhile.
   */
  async getActiveSessionId(userId: number): Promise<string | undefined> {
    const profile = await this.doc.get({ TableName: this.table, Key: { pk: userId, sk: PROFILE_SK }, ConsistentRead: true });
    const id = profile.Item?.active_session_id;
    return typeof id === "string" && id.length > 0 ? id : undefined;
  }

  /**
   * The active session id, read in one BatchGetItem with `others` (the day's usage counters:
   * store/chat-usage.ts), so the profile read of a chat message carries them at no extra request.
   */
  async getActiveSessionIdWith(userId: number, others: readonly Item[]): Promise<{ readonly activeSessionId: string | undefined; readonly others: Item[] }> {
    const items = await this.doc.batchGet(this.table, [{ pk: userId, sk: PROFILE_SK }, ...others]);
    const profile = items.find((i) => i.sk === PROFILE_SK && Number(i.pk) === userId);
    const id = profile?.active_session_id;
    return { activeSessionId: typeof id === "string" && id.length > 0 ? id : undefined, others: items.filter((i) => i !== profile) };
  }

  /** One session, or undefined. */
  async getSession(userId: number, sessionId: string): Promise<Session | undefined> {
    const result = await this.doc.get({ TableName: this.table, Key: { pk: userId, sk: sessionSk(sessionId) }, ConsistentRead: true });
    return result.Item ? toSession(result.Item) : undefined;
  }

  /** All the user's sessions, oldest first (the numbering of /listsessions, /switch, /archive). */
  async listSessions(userId: number): Promise<Session[]> {
    const sessions: Session[] = [];
    for await (const item of this.itemsWithPrefix(userId, SESSION_PREFIX, { consistent: true })) sessions.push(toSession(item));
    return sessions.sort(compareSessions);
  }

  /**
   * Creates a session with `modelName` and makes it the active one. Crash-safe order: the
   * session item (inactive), then the profile (the truth), then the index copies. With a
   * `sessionId` derived from the update, a rerun of the update finds the session its earlier
   * attempt created and only makes it active (again): one session, however often it runs.
   */
  async createSession(userId: number, modelName: string, previousActiveId?: string, sessionId = this.newId()): Promise<Session> {
    const createdAt = this.now();
    const fresh: Session = {
      userId,
      sessionId,
      modelName,
      isActive: true,
      createdAt,
      lastMessageTs: Math.floor(createdAt / 1000),
      messageCount: 0,
    };
    let session = fresh;
    try {
      await this.doc.put({
        TableName: this.table,
        Item: {
          pk: userId,
          sk: sessionSk(sessionId),
          session_id: sessionId,
          model_name: modelName,
          is_active: 0,
          created_at: createdAt,
          last_message_ts: fresh.lastMessageTs,
          message_count: 0,
        },
        ConditionExpression: "attribute_not_exists(sk)",
      });
    } catch (err) {
      const existing = isConditionFailed(err) ? await this.getSession(userId, sessionId) : undefined;
      if (!existing) throw err;
      session = { ...existing, isActive: true };
    }
    await this.activate(userId, sessionId, previousActiveId);
    return session;
  }

  /**
   * Makes `sessionId` the active session: the profile first (the truth), then the is_active
   * index copies of the previous and the new session. `sessionId` undefined clears it.
   */
  async activate(userId: number, sessionId: string | undefined, previousActiveId?: string): Promise<void> {
    await this.doc.update({
      TableName: this.table,
      Key: { pk: userId, sk: PROFILE_SK },
      UpdateExpression: sessionId
        ? "SET active_session_id = :id, updated_at = :now, created_at = if_not_exists(created_at, :now)"
        : "REMOVE active_session_id SET updated_at = :now",
      ExpressionAttributeValues: sessionId ? { ":id": sessionId, ":now": this.now() } : { ":now": this.now() },
    });
    if (previousActiveId && previousActiveId !== sessionId) await this.setIndexFlag(userId, previousActiveId, 0);
    if (sessionId) await this.setIndexFlag(userId, sessionId, 1);
  }

  /**
   * Sets the session's own system prompt ("" turns it off, the default included); one
   * UpdateItem. False when the session no longer exists (archived meanwhile).
   */
  async setSystemPrompt(userId: number, sessionId: string, prompt: string): Promise<boolean> {
    try {
      await this.doc.update({
        TableName: this.table,
        Key: { pk: userId, sk: sessionSk(sessionId) },
        UpdateExpression: "SET system_prompt = :prompt",
        ConditionExpression: "attribute_exists(sk)",
        ExpressionAttributeValues: { ":prompt": prompt },
      });
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Appends a message: an atomic increment of the session's counter gives its sequence number
   * (and fails with ConditionalCheckFailedException if the session no longer exists), then the
   * message item is written. `facts` are set on the session item by the same counter update,
   * so they cost no extra request.
   *
   * With an `appendKey` (the update and the role: `<update_id>:user`), the counter update also
   * binds the key to the seq it gave out, in the same atomic write; appending with the same key
   * again (a rerun of the update) gives the same seq and rewrites the same item, never a
   * second copy. Only the session's last append is remembered, which is enough where one
   * update's appends are not interleaved with another's (queue mode: one chat at a time).
   */
  async appendMessage(
    userId: number,
    sessionId: string,
    role: MessageRole,
    content: string,
    facts: SessionFacts = {},
    appendKey?: string,
    photoFileId?: string,
  ): Promise<StoredMessage> {
    const { message } = await this.append(userId, sessionId, { role, content, facts, appendKey, photoFileId }, "UPDATED_NEW");
    return message;
  }

  /**
   * {@link appendMessage}, whose counter update also returns the whole session item (ALL_NEW):
   * the chat path learns the session's model and flags from its first write instead of
   * reading the session item first. Same two requests, same failure when the session is gone.
   */
  async appendMessageWithSession(
    userId: number,
    sessionId: string,
    role: MessageRole,
    content: string,
    appendKey?: string,
    photoFileId?: string,
  ): Promise<AppendedMessage> {
    const { message, attributes } = await this.append(userId, sessionId, { role, content, facts: {}, appendKey, photoFileId }, "ALL_NEW");
    return { message, session: toSession(attributes) };
  }

  private async append(
    userId: number,
    sessionId: string,
    entry: { role: MessageRole; content: string; facts: SessionFacts; appendKey: string | undefined; photoFileId?: string | undefined },
    returnValues: "UPDATED_NEW" | "ALL_NEW",
  ): Promise<{ message: StoredMessage; attributes: Item }> {
    const { role, content, facts, appendKey, photoFileId } = entry;
    const photo = photoFileId !== undefined ? { photoFileId } : {};
    const ts = Math.floor(this.now() / 1000);
    let set = "message_count = if_not_exists(message_count, :zero) + :one, last_message_ts = :ts";
    const values: Item = { ":zero": 0, ":one": 1, ":ts": ts };
    let condition = "attribute_exists(sk)";
    if (appendKey !== undefined) {
      set += ", last_append_key = :key, last_append_seq = if_not_exists(message_count, :zero) + :one";
      values[":key"] = appendKey;
      condition += " AND (attribute_not_exists(last_append_key) OR last_append_key <> :key)";
    }
    if (facts.contextNoteShown) {
      set += ", context_note_shown = :noted";
      values[":noted"] = true;
    }
    set += factsUpdate(facts, values);
    let counter: { Attributes?: Item };
    try {
      counter = await this.doc.update({
        TableName: this.table,
        Key: { pk: userId, sk: sessionSk(sessionId) },
        UpdateExpression: `SET ${set}`,
        ConditionExpression: condition,
        ExpressionAttributeValues: values,
        ReturnValues: returnValues,
      });
    } catch (err) {
      if (appendKey === undefined || !isConditionFailed(err)) throw err;
      const earlier = await this.earlierAppend(userId, sessionId, appendKey);
      if (!earlier) throw err;
      // The same update appended this message before: write the same item again, keeping the first one's.
      await this.putMessageOnce(userId, sessionId, earlier.seq, { role, content, ts, appendKey, ...photo });
      return { message: { seq: earlier.seq, role, content, ts, ...photo }, attributes: earlier.attributes };
    }
    const attributes: Item = { pk: userId, session_id: sessionId, ...counter.Attributes };
    const seq = Number(attributes.message_count);
    await this.doc.put({
      TableName: this.table,
      Item: { pk: userId, sk: messageSk(sessionId, seq), role, content, ts, ...(appendKey ? { append_key: appendKey } : {}), ...photoAttribute(photoFileId) },
    });
    return { message: { seq, role, content, ts, ...photo }, attributes };
  }

  /**
   * Replaces assistant message `seq` with a retry's answer (one assistant turn, not two) and records `facts`: two
   * writes, the first only while it is an assistant message (never the user's words). False when it is gone.
   */
  async replaceAnswer(userId: number, sessionId: string, seq: number, content: string, facts: SessionFacts = {}): Promise<boolean> {
    const ts = Math.floor(this.now() / 1000);
    try {
      await this.doc.put({
        TableName: this.table,
        Item: { pk: userId, sk: messageSk(sessionId, seq), role: "assistant", content, ts },
        ConditionExpression: "attribute_exists(sk) AND #role = :assistant",
        ExpressionAttributeNames: { "#role": "role" },
        ExpressionAttributeValues: { ":assistant": "assistant" },
      });
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return false;
    }
    const values: Item = { ":ts": ts };
    await this.updateSessionIf(userId, sessionId, { UpdateExpression: `SET last_message_ts = :ts${factsUpdate(facts, values)}`, ConditionExpression: "attribute_exists(sk)", ExpressionAttributeValues: values });
    return true;
  }

  /** The seq (and session item) an append with `appendKey` got, when it was the session's last append. */
  private async earlierAppend(userId: number, sessionId: string, appendKey: string): Promise<{ seq: number; attributes: Item } | undefined> {
    const result = await this.doc.get({ TableName: this.table, Key: { pk: userId, sk: sessionSk(sessionId) }, ConsistentRead: true });
    const item = result.Item;
    if (!item || item.last_append_key !== appendKey) return undefined;
    return { seq: Number(item.last_append_seq), attributes: item };
  }

  /** Writes a message item unless it exists (an earlier attempt's copy stays as it was). */
  private async putMessageOnce(
    userId: number,
    sessionId: string,
    seq: number,
    message: { role: MessageRole; content: string; ts: number; appendKey: string; photoFileId?: string },
  ): Promise<void> {
    try {
      await this.doc.put({
        TableName: this.table,
        Item: { pk: userId, sk: messageSk(sessionId, seq), role: message.role, content: message.content, ts: message.ts, append_key: message.appendKey, ...photoAttribute(message.photoFileId) },
        ConditionExpression: "attribute_not_exists(sk)",
      });
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /** The newest `limit` messages, returned oldest first: one Query whatever the session's length. */
  async recentMessages(userId: number, sessionId: string, limit: number): Promise<StoredMessage[]> {
    const page = await this.doc.query({
      TableName: this.table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
      ExpressionAttributeValues: { ":pk": userId, ":prefix": messagePrefix(sessionId) },
      ScanIndexForward: false,
      Limit: limit,
      ConsistentRead: true,
    });
    return (page.Items ?? []).map(toMessage).reverse();
  }

  /** Every message of a session, oldest first (archiving). */
  async allMessages(userId: number, sessionId: string): Promise<StoredMessage[]> {
    const messages: StoredMessage[] = [];
    for await (const item of this.itemsWithPrefix(userId, messagePrefix(sessionId), { consistent: true })) {
      messages.push(toMessage(item));
    }
    return messages;
  }

  /** Every item of the user whose sort key starts with `prefix`, in order, page by page (one Query per page). */
  private async *itemsWithPrefix(
    userId: number,
    prefix: string,
    options: { consistent?: boolean; keysOnly?: boolean },
  ): AsyncGenerator<Item> {
    let startKey: Item | undefined;
    do {
      const page = await this.doc.query({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": userId, ":prefix": prefix },
        ...(options.consistent ? { ConsistentRead: true } : {}),
        ...(options.keysOnly ? { ProjectionExpression: "pk, sk" } : {}),
        ExclusiveStartKey: startKey,
      });
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * Removes a session: its item first (so it disappears from every list at once and can never
   * be archived again half-deleted), then its messages in batches of 25. With
   * `expectedMessageCount`, the session item is deleted only if no message was added since it
   * was read (an archive taken before that would miss it): otherwise {@link SessionChangedError}
   * and nothing is removed.
   */
  async deleteSession(userId: number, sessionId: string, expectedMessageCount?: number): Promise<void> {
    try {
      await this.doc.delete({
        TableName: this.table,
        Key: { pk: userId, sk: sessionSk(sessionId) },
        ...(expectedMessageCount === undefined
          ? {}
          : { ConditionExpression: "message_count = :n", ExpressionAttributeValues: { ":n": expectedMessageCount } }),
      });
    } catch (err) {
      if (isConditionFailed(err)) throw new SessionChangedError(sessionId);
      throw err;
    }
    const keys: WriteRequest[] = [];
    for await (const item of this.itemsWithPrefix(userId, messagePrefix(sessionId), { keysOnly: true })) {
      keys.push({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } });
    }
    await batchWriteAll(this.doc, this.table, keys);
  }

  /**
   * Bulk-loads messages into an existing session with BatchWriteItem (25 per request) and sets
   * its counter: for seeding benchmarks and tests, and for restoring a conversation.
   */
  async bulkAppend(
    userId: number,
    sessionId: string,
    messages: readonly { role: MessageRole; content: string; ts: number }[],
  ): Promise<void> {
    const session = await this.getSession(userId, sessionId);
    if (!session) throw new Error(`session ${sessionId} does not exist`);
    const first = session.messageCount + 1;
    const writes: WriteRequest[] = messages.map((m, i) => ({
      PutRequest: { Item: { pk: userId, sk: messageSk(sessionId, first + i), role: m.role, content: m.content, ts: m.ts } },
    }));
    await batchWriteAll(this.doc, this.table, writes);
    const lastTs = messages.length > 0 ? messages[messages.length - 1]!.ts : session.lastMessageTs;
    await this.doc.update({
      TableName: this.table,
      Key: { pk: userId, sk: sessionSk(sessionId) },
      UpdateExpression: "ADD message_count :n SET last_message_ts = :ts",
      ExpressionAttributeValues: { ":n": messages.length, ":ts": lastTs },
    });
  }

  private async setIndexFlag(userId: number, sessionId: string, value: 0 | 1): Promise<void> {
    // When the session was archived meanwhile, there is no index copy left to fix.
    await this.updateSessionIf(userId, sessionId, {
      UpdateExpression: "SET is_active = :v",
      ConditionExpression: "attribute_exists(sk)",
      ExpressionAttributeValues: { ":v": value },
    });
  }

  /** Updates a session item when `ConditionExpression` holds, and does nothing when it does not. */
  private async updateSessionIf(
    userId: number,
    sessionId: string,
    update: Required<Pick<UpdateInput, "UpdateExpression" | "ConditionExpression" | "ExpressionAttributeValues">>,
  ): Promise<void> {
    await updateIf(this.doc, { TableName: this.table, Key: { pk: userId, sk: sessionSk(sessionId) }, ...update });
  }
}

/** The message item's attribute naming a photo's Telegram file_id, when it has one. */
const photoAttribute = (photoFileId: string | undefined): Item => (photoFileId !== undefined ? { photo_file_id: photoFileId } : {});
