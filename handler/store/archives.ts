import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { ARCHIVES_PREFIX } from "../../config/defaults";
import { archiveMetadata, serialiseArchive, type ArchiveDocument } from "./archive-format";

/** Builds (or returns the cached) S3 client; called only when a command needs S3. */
export type S3ClientFactory = () => Promise<S3Client>;

/** The key of an archive: archives/<user_id>/<session_id>.json. */
export const archiveKey = (userId: number, sessionId: string) => `${ARCHIVES_PREFIX}${userId}/${sessionId}.json`;

/** An entry with the model and message count its object's metadata holds. Pure. */
function withMetadata(entry: ArchiveEntry, metadata: Record<string, string> | undefined): ArchiveEntry {
  const model = metadata?.model;
  const messages = Number(metadata?.messages);
  return {
    ...entry,
    modelName: model ? decodeURIComponent(model) : undefined,
    messageCount: Number.isFinite(messages) ? messages : undefined,
  };
}

/** One archive as a listing shows it. */
export interface ArchiveEntry {
  readonly key: string;
  readonly sessionId: string;
  readonly sizeBytes: number;
  readonly lastModified: Date;
  /** From the object's metadata, when {@link ArchiveStore.describe} read it. */
  readonly modelName?: string;
  readonly messageCount?: number;
}

/** Options of {@link ArchiveStore}. */
export interface ArchiveStoreOptions {
  readonly s3: S3ClientFactory;
  readonly bucket: string;
  /** HEAD requests in flight at once while describing a listing. @default 8 */
  readonly describeConcurrency?: number;
}

/** Orders archives the way /listarchives and /export number them: oldest first, then by key. */
export function compareArchives(a: ArchiveEntry, b: ArchiveEntry): number {
  return a.lastModified.getTime() - b.lastModified.getTime() || a.key.localeCompare(b.key);
}

/**
 * Archived sessions in S3. The S3 client is built on first use (see {@link S3ClientFactory}),
 * so updates that never touch an archive do not pay for it.
 */
export class ArchiveStore {
  constructor(private readonly options: ArchiveStoreOptions) {}

  /** Writes an archive and resolves only once S3 confirmed the write; returns its key and size. */
  async put(archive: ArchiveDocument): Promise<{ key: string; sizeBytes: number }> {
    const body = serialiseArchive(archive);
    const key = archiveKey(archive.user_id, archive.session_id);
    const s3 = await this.options.s3();
    await s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: body,
        ContentType: "application/json",
        Metadata: archiveMetadata(archive),
      }),
    );
    return { key, sizeBytes: body.byteLength };
  }

  /**
   * Removes the archive of a session (what /archive does when the session could not be removed
   * after all). Deleting an archive that does not exist succeeds, as in S3.
   */
  async delete(userId: number, sessionId: string): Promise<void> {
    const s3 = await this.options.s3();
    await s3.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: archiveKey(userId, sessionId) }));
  }

  /** The user's archives in a stable order (oldest first, then by key), without metadata. */
  async list(userId: number): Promise<ArchiveEntry[]> {
    const s3 = await this.options.s3();
    const prefix = `${ARCHIVES_PREFIX}${userId}/`;
    const entries: ArchiveEntry[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key?.endsWith(".json")) continue;
        entries.push({
          key: object.Key,
          sessionId: object.Key.slice(prefix.length, -".json".length),
          sizeBytes: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return entries.sort(compareArchives);
  }

  /** Adds model and message count from each object's metadata (HEAD requests, a few at a time). */
  async describe(entries: readonly ArchiveEntry[]): Promise<ArchiveEntry[]> {
    const s3 = await this.options.s3();
    const out: ArchiveEntry[] = [...entries];
    const concurrency = this.options.describeConcurrency ?? 8;
    for (let start = 0; start < out.length; start += concurrency) {
      await Promise.all(
        out.slice(start, start + concurrency).map(async (entry, offset) => {
          const head = await s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: entry.key }));
          out[start + offset] = withMetadata(entry, head.Metadata);
        }),
      );
    }
    return out;
  }

  /**
   * The archive of one session with its model and message count (one HEAD request), or
   * undefined when there is none.
   */
  async find(userId: number, sessionId: string): Promise<ArchiveEntry | undefined> {
    const s3 = await this.options.s3();
    const key = archiveKey(userId, sessionId);
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return withMetadata({ key, sessionId, sizeBytes: head.ContentLength ?? 0, lastModified: head.LastModified ?? new Date(0) }, head.Metadata);
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (err as { name?: string }).name === "NotFound") return undefined;
      throw err;
    }
  }

  /** The stored bytes of an archive, unchanged (what /export sends). */
  async get(key: string): Promise<Uint8Array> {
    const s3 = await this.options.s3();
    const result = await s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
    if (!result.Body) throw new Error(`archive ${key} has no body`);
    return result.Body.transformToByteArray();
  }
}
