/**
 * A snapshot of everything stored: every item of the sessions table (Scan) and every object
 * of the archive bucket (List), in a stable order, so a test can say "nothing changed" or
 * "nothing that was stored is gone".
 */
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { UPDATE_PREFIX } from "../../handler/store/table-layout";
import type { Harness } from "./handler-harness";

/** The stored state. */
export interface StoreSnapshot {
  /** Table items sorted by pk then sk. */
  readonly items: Record<string, unknown>[];
  /** Bucket objects: key, size and ETag, sorted by key. */
  readonly objects: { key: string; size: number; etag: string }[];
}

/** Reads the whole table and bucket of a harness. */
export async function snapshotStore(h: Pick<Harness, "doc" | "s3" | "config">): Promise<StoreSnapshot> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await h.doc.scan({ TableName: h.config.tableName, ConsistentRead: true, ExclusiveStartKey: startKey });
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  items.sort((a, b) => Number(a.pk) - Number(b.pk) || String(a.sk).localeCompare(String(b.sk)));

  const s3 = await h.s3();
  const objects: StoreSnapshot["objects"] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: h.config.bucketName, ContinuationToken: token }));
    for (const o of page.Contents ?? []) objects.push({ key: o.Key ?? "", size: o.Size ?? 0, etag: o.ETag ?? "" });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  objects.sort((a, b) => a.key.localeCompare(b.key));
  return { items, objects };
}

/** The snapshot without update marks (UPDATE#<id>), which every claimed update adds. */
export function withoutUpdateMarks(snapshot: StoreSnapshot): StoreSnapshot {
  return { items: snapshot.items.filter((item) => !String(item.sk).startsWith(UPDATE_PREFIX)), objects: snapshot.objects };
}
