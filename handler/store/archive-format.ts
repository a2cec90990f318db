import type { ErrorObject, ValidateFunction } from "ajv";
import { SYSTEM_PROMPT_MAX_CHARS } from "../../config/stack-config";
import { ARCHIVE_JSON_BUDGET, checkJsonBudget } from "./json-budget";
import type { Session, StoredMessage } from "./session-items";

/**
 * The archive file: the seed's format (what /archive writes to S3, /export sends and an
 * imported file must be), its JSON schema, and pure helpers around it.
 */

/** The only archive version this bot writes and reads. */
export const ARCHIVE_VERSION = "1.0";

/** One message of an archived conversation. */
export interface ArchivedMessage {
  readonly role: "user" | "assistant" | "system";
  readonly content: string;
  /** Epoch seconds. */
  readonly ts: number;
}

/** Where an imported archive came from. */
export interface ImportMetadata {
  readonly original_user_id: number;
  readonly original_session_id: string;
  /** ISO 8601. */
  readonly imported_at: string;
}

/** An archived session as stored in s3://<bucket>/archives/<user_id>/<session_id>.json. */
export interface ArchiveDocument {
  readonly user_id: number;
  readonly session_id: string;
  readonly model_name: string;
  readonly conversation: readonly ArchivedMessage[];
  /** Epoch seconds of the last message. */
  readonly last_message_ts: number;
  /** ISO 8601. */
  readonly archived_at: string;
  readonly archive_version: typeof ARCHIVE_VERSION;
  /** Present on archives that were imported from a file. */
  readonly import?: ImportMetadata;
  /**
   * The session's own system prompt (/system), "" when it was turned off. Optional, so files of
   * the seed's format import, and a reader of the seed's format ignores it (no
   * additionalProperties rule). @default - none of its own (the default system prompt applied)
   */
  readonly system_prompt?: string;
}

/** JSON schema of {@link ArchiveDocument} (draft-07, as ajv's default). */
export const ARCHIVE_SCHEMA = {
  type: "object",
  required: ["user_id", "session_id", "model_name", "conversation", "last_message_ts", "archived_at", "archive_version"],
  properties: {
    user_id: { type: "integer" },
    session_id: { type: "string", minLength: 1, maxLength: 200 },
    model_name: { type: "string", minLength: 1, maxLength: 200 },
    conversation: {
      type: "array",
      maxItems: 100_000,
      items: {
        type: "object",
        required: ["role", "content", "ts"],
        properties: {
          role: { enum: ["user", "assistant", "system"] },
          content: { type: "string" },
          ts: { type: "number" },
        },
      },
    },
    last_message_ts: { type: "number" },
    archived_at: { type: "string", minLength: 1 },
    archive_version: { const: ARCHIVE_VERSION },
    import: {
      type: "object",
      required: ["original_user_id", "original_session_id", "imported_at"],
      properties: {
        original_user_id: { type: "integer" },
        original_session_id: { type: "string" },
        imported_at: { type: "string" },
      },
    },
    system_prompt: { type: "string", maxLength: SYSTEM_PROMPT_MAX_CHARS },
  },
} as const;

/** The verdict on a candidate archive. */
export type ArchiveValidation =
  | { readonly ok: true; readonly archive: ArchiveDocument }
  | { readonly ok: false; readonly problems: readonly string[] };

let compiled: ValidateFunction | undefined;

/**
 * The archive schema's validator: ajv's standalone code generated from ARCHIVE_SCHEMA by
 * scripts/generate-archive-validator.ts, so the bundle carries no schema compiler. Loaded on
 * first use only: updates that never see an archive file do not pay for it.
 */
async function validator(): Promise<ValidateFunction> {
  compiled ??= (await import("../generated/archive-validator")).default;
  return compiled;
}

/** One ajv error in words a user can act on, e.g. `conversation/3/role must be one of user, assistant, system`. */
export function describeSchemaError(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1) : "the file";
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return `${where === "the file" ? "the file" : where} is missing "${String(params.missingProperty)}"`;
    case "enum":
      return `${where} must be one of ${(params.allowedValues as unknown[]).join(", ")}`;
    case "const":
      return `${where} must be "${String(params.allowedValue)}"`;
    default:
      return `${where} ${error.message ?? "is invalid"}`;
  }
}

/** S3's limit on an object's user-defined metadata (keys and values, UTF-8), in bytes. */
export const S3_METADATA_LIMIT_BYTES = 2048;

/** The S3 metadata an archive object carries (shown by /listarchives without reading the file). Pure. */
export function archiveMetadata(archive: Pick<ArchiveDocument, "model_name" | "conversation">): Record<string, string> {
  return { model: encodeURIComponent(archive.model_name), messages: String(archive.conversation.length) };
}

/** The size S3 counts for metadata, in bytes. Pure. */
export function metadataBytes(metadata: Record<string, string>): number {
  return Object.entries(metadata).reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value), 0);
}

/**
 * Parses and validates the bytes of an archive file; the problems name what is wrong (at most 5).
 * Hostile files are refused before they are decoded (see json-budget.ts), and a valid file is
 * rebuilt from the fields of the format only, so nothing else it carried is kept or written.
 */
export async function parseArchive(bytes: Uint8Array): Promise<ArchiveValidation> {
  const budget = checkJsonBudget(bytes, ARCHIVE_JSON_BUDGET);
  if (!budget.ok) return { ok: false, problems: [`the file is not an archive I can read: ${budget.reason}`] };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { ok: false, problems: ["the file is not valid UTF-8 JSON"] };
  }
  const validate = await validator();
  if (!validate(value)) {
    const problems = [...new Set((validate.errors ?? []).map(describeSchemaError))];
    return { ok: false, problems: problems.slice(0, 5) };
  }
  const archive = knownFieldsOf(value as unknown as ArchiveDocument);
  if (metadataBytes(archiveMetadata(archive)) > S3_METADATA_LIMIT_BYTES) {
    return { ok: false, problems: [`model_name is too long to store (S3 keeps at most ${S3_METADATA_LIMIT_BYTES} bytes of metadata)`] };
  }
  return { ok: true, archive };
}

/** The archive rebuilt from the format's fields only (a file may carry anything else). Pure. */
export function knownFieldsOf(archive: ArchiveDocument): ArchiveDocument {
  const origin = archive.import;
  return {
    user_id: archive.user_id,
    session_id: archive.session_id,
    model_name: archive.model_name,
    conversation: archive.conversation.map((m) => ({ role: m.role, content: m.content, ts: m.ts })),
    last_message_ts: archive.last_message_ts,
    archived_at: archive.archived_at,
    archive_version: ARCHIVE_VERSION,
    ...(origin
      ? { import: { original_user_id: origin.original_user_id, original_session_id: origin.original_session_id, imported_at: origin.imported_at } }
      : {}),
    ...systemPromptOf(archive.system_prompt),
  };
}

/** The optional system_prompt field: present only when there is one (also "", turned off). Pure. */
const systemPromptOf = (prompt: string | undefined): Pick<ArchiveDocument, "system_prompt"> =>
  prompt === undefined ? {} : { system_prompt: prompt };

/** Builds the archive of a live session and its whole conversation. */
export function buildArchive(session: Session, messages: readonly StoredMessage[], archivedAt: Date): ArchiveDocument {
  return {
    user_id: session.userId,
    session_id: session.sessionId,
    model_name: session.modelName,
    conversation: messages.map((m) => ({ role: m.role, content: m.content, ts: m.ts })),
    last_message_ts: messages.length > 0 ? messages[messages.length - 1]!.ts : session.lastMessageTs,
    archived_at: archivedAt.toISOString(),
    archive_version: ARCHIVE_VERSION,
    ...systemPromptOf(session.systemPrompt),
  };
}

/**
 * The archive an imported file becomes: the same conversation, owned by the importing user
 * under a new session id, with where it came from. An import of an import keeps the first origin.
 */
export function importedArchive(source: ArchiveDocument, userId: number, newSessionId: string, now: Date): ArchiveDocument {
  return {
    user_id: userId,
    session_id: newSessionId,
    model_name: source.model_name,
    conversation: source.conversation,
    last_message_ts: source.last_message_ts,
    archived_at: now.toISOString(),
    archive_version: ARCHIVE_VERSION,
    import: {
      original_user_id: source.import?.original_user_id ?? source.user_id,
      original_session_id: source.import?.original_session_id ?? source.session_id,
      imported_at: now.toISOString(),
    },
    ...systemPromptOf(source.system_prompt),
  };
}

/** The serialised form written to S3 and sent by /export (compact JSON, UTF-8, one line). */
export function serialiseArchive(archive: ArchiveDocument): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(archive)}\n`);
}

/** The /export file name: archive_<first 8 of session id>_<model with unsafe characters as _>.json. */
export function exportFileName(sessionId: string, modelName: string): string {
  const model = modelName.replace(/[^A-Za-z0-9._-]/g, "_");
  return `archive_${sessionId.slice(0, 8)}_${model}.json`;
}
