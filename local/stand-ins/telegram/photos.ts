/**
 * Photos as a user sends them, for the Telegram stand-in: Telegram keeps a photo in several
 * sizes and a message lists them as PhotoSize objects, smallest first, each with its own
 * file_id that getFile and the file URL serve.
 */
import { randomUUID } from "node:crypto";
import type { PhotoSize } from "@grammyjs/types";
import type { TelegramStandIn } from "./server";

/** One size of a photo: its dimensions and its bytes (a JPEG, as Telegram stores photos). */
export interface PhotoVariant {
  readonly width: number;
  readonly height: number;
  readonly data: Buffer;
}

/**
 * Registers each size of a photo with the stand-in and returns the message's `photo` field,
 * smallest first. `announceSizes: false` leaves file_size out, as Telegram may.
 */
export function addPhoto(telegram: Pick<TelegramStandIn, "addFile">, variants: readonly PhotoVariant[], announceSizes = true): PhotoSize[] {
  const id = randomUUID().slice(0, 8);
  return [...variants]
    .sort((a, b) => a.width * a.height - b.width * b.height)
    .map((variant) => {
      const stored = telegram.addFile(variant.data, { filePath: `photos/${id}_${variant.width}x${variant.height}.jpg` });
      return {
        file_id: stored.file_id,
        file_unique_id: stored.file_unique_id,
        width: variant.width,
        height: variant.height,
        ...(announceSizes ? { file_size: stored.file_size } : {}),
      };
    });
}
