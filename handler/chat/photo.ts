import type { PhotoSize } from "@grammyjs/types";
import { TELEGRAM_GET_FILE_LIMIT_BYTES } from "../../config/defaults";
import type { UpdateContext } from "../conversation/update-context";
import { formatSize, unavailableModelWarning } from "../format/views";
import { CAPABILITY } from "../model/capabilities";
import type { ModelRegistry, ModelRoute } from "../model/registry";
import { ServiceError } from "../net/errors";
import { FileTooLargeError } from "../telegram/client";
import type { ContextWindow } from "./context-window";

/**
 * A photo sent to the bot (with or without a caption) is a chat message whose picture goes to
 * a vision model as Ollama's `images` (base64) on that message. The history keeps only a marker
 * and the caption ({@link photoMarker}), never the bytes, and the message item the picture's
 * Telegram file_id, so that a retry can fetch it again ({@link pictureForRetry}). A session whose
 * model cannot see (no `vision` capability in /api/show) gets a plain refusal naming a configured
 * model that can.
 */

/** What the history stores in place of a picture, before its caption. */
export const PHOTO_MARKER = "[photo]";

/** Said when a retried photo question's picture cannot be fetched from Telegram again. */
export const PICTURE_GONE_TEXT = "The picture of that question can no longer be fetched from Telegram. Please send it again.";

/** A picture ready for the model: its bytes as base64, and the file_id of the size they came from. */
export interface PictureForModel {
  readonly base64: string;
  readonly fileId: string;
}

/** Vision models of Ollama's library the refusal suggests when none is configured. */
export const SUGGESTED_VISION_MODELS = "qwen2.5vl:3b or gemma3:4b";

/** The stored text of a photo message: the marker and the caption. Pure. */
export function photoMarker(caption: string): string {
  const text = caption.trim();
  return text ? `${PHOTO_MARKER} ${text}` : PHOTO_MARKER;
}

/** The sizes worth trying, largest first: those within `maxBytes` and those that announce no size. Pure. */
export function photoCandidates(sizes: readonly PhotoSize[], maxBytes: number): PhotoSize[] {
  return sizes
    .filter((size) => size.file_size === undefined || size.file_size <= maxBytes)
    .sort((a, b) => b.width * b.height - a.width * a.height || (b.file_size ?? 0) - (a.file_size ?? 0));
}

/**
 * The refusal for a text-only model, naming a configured vision model (1-based `position`) when
 * there is one; `asked` when the model is the one a retry asked for rather than the session's. Pure.
 */
export function textOnlyText(model: string, vision: { readonly model: string; readonly position: number } | undefined, asked = false): string {
  const lead = `${model}, ${asked ? "the model asked" : "the model of this session"}, reads text only: it cannot see pictures.`;
  return vision
    ? `${lead} ${vision.model} can: start a session with it (/newsession ${vision.position}) and send the picture again.`
    : `${lead} None of the models here can; the admin can add one (for example ${SUGGESTED_VISION_MODELS}).`;
}

/** The window with `image` on its last message (the user's); unchanged without one. Pure. */
export function withImage(window: ContextWindow, image: string | undefined): ContextWindow {
  if (image === undefined || window.messages.length === 0) return window;
  const messages = [...window.messages];
  messages[messages.length - 1] = { ...messages[messages.length - 1]!, images: [image] };
  return { ...window, messages };
}

/**
 * The picture of a photo message, ready for the active session's model; undefined once the user
 * was told why it cannot go (no AI server, a model that cannot see or could not be asked, a
 * picture too large at every size). Nothing is stored before this succeeds.
 */
export async function photoForSession(ctx: UpdateContext, activeSessionId: string | undefined, sizes: readonly PhotoSize[]): Promise<PictureForModel | undefined> {
  const session = activeSessionId ? await ctx.sessions.getSession(ctx.userId, activeSessionId) : undefined;
  const model = session?.modelName ?? ctx.config.modelNames[0]!;
  const route = ctx.models.route(model);
  if (!route) {
    await ctx.reply(unavailableModelWarning(model));
    return undefined;
  }
  if (!route.api) {
    await ctx.reply("The AI server is not configured (OLLAMA_URL), so I cannot look at pictures.");
    return undefined;
  }
  if (!(await canSee(ctx, route))) return undefined;
  return downloadPhoto(ctx, sizes);
}

/**
 * The picture of a retried photo question, fetched again by its file_id, as base64 for `model`;
 * undefined once the user was told why it cannot go (the model cannot see, or Telegram no longer
 * has the file or it is now over the limit).
 */
export async function pictureForRetry(ctx: UpdateContext, route: ModelRoute, fileId: string): Promise<string | undefined> {
  if (!(await canSee(ctx, route, true))) return undefined;
  const limit = photoByteLimit(ctx);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await downloadSize(ctx, fileId, limit);
  } catch (err) {
    // Telegram answers 400 for a file_id it no longer knows.
    if (!(err instanceof ServiceError && err.status === 400)) throw err;
  }
  if (!bytes) {
    ctx.log.info("retried photo not fetched again", { action: "read_photo", outcome: "ignored" });
    await ctx.reply(PICTURE_GONE_TEXT);
    return undefined;
  }
  return Buffer.from(bytes).toString("base64");
}

/** The most bytes of a picture the bot fetches: PHOTO_MAX_BYTES, at most Telegram's 20 MB getFile limit. */
const photoByteLimit = (ctx: UpdateContext) => Math.min(ctx.config.maxPhotoBytes, TELEGRAM_GET_FILE_LIMIT_BYTES);

/** True when `model` can see; otherwise false once the user was told (it reads text only, or could not be asked). */
async function canSee(ctx: UpdateContext, route: ModelRoute, asked = false): Promise<boolean> {
  const model = route.entry.name;
  const capabilities = await ctx.models.capabilities(route);
  if (!capabilities) {
    await ctx.reply(`I could not ask the AI server whether ${model} can see pictures (it may be stopped or starting). Please try again in a minute.`);
    return false;
  }
  if (capabilities.includes(CAPABILITY.vision)) return true;
  ctx.log.info("photo refused: the model reads text only", { action: "read_photo", outcome: "ignored", model });
  await ctx.reply(textOnlyText(model, await visionModel(ctx.models), asked));
  return false;
}

/** The first configured model that can see, with its /newsession position. */
async function visionModel(models: ModelRegistry): Promise<{ model: string; position: number } | undefined> {
  const routes = models.entries.map((entry) => models.route(entry.name)!);
  const capabilities = await Promise.all(routes.map((route) => (route.api ? models.capabilities(route) : undefined)));
  const index = capabilities.findIndex((c) => c?.includes(CAPABILITY.vision) ?? false);
  return index < 0 ? undefined : { model: routes[index]!.entry.name, position: index + 1 };
}

/**
 * Downloads the largest size of the photo under the byte limit (PHOTO_MAX_BYTES, at most
 * Telegram's 20 MB getFile limit), trying the next smaller one when a size turns out larger
 * than announced; base64, or undefined once the user was told that every size is too large.
 */
async function downloadPhoto(ctx: UpdateContext, sizes: readonly PhotoSize[]): Promise<PictureForModel | undefined> {
  const limit = photoByteLimit(ctx);
  for (const size of photoCandidates(sizes, limit)) {
    const bytes = await downloadSize(ctx, size.file_id, limit);
    if (!bytes) continue;
    ctx.log.info("photo read", { action: "read_photo", outcome: "success", bytes: bytes.byteLength, width: size.width, height: size.height });
    return { base64: Buffer.from(bytes).toString("base64"), fileId: size.file_id };
  }
  await ctx.reply(`That picture is larger than ${formatSize(limit)} even at its smallest size, the most I send to the model. Please send a smaller one.`);
  return undefined;
}

/** One size's bytes, or undefined when Telegram says or shows it is over `limit`. */
async function downloadSize(ctx: UpdateContext, fileId: string, limit: number): Promise<Uint8Array | undefined> {
  try {
    const file = await ctx.bot.call("getFile", { file_id: fileId });
    if (!file.file_path || (file.file_size !== undefined && file.file_size > limit)) return undefined;
    return await ctx.bot.downloadFile(file.file_path, limit);
  } catch (err) {
    // Telegram refuses getFile over its own limit with a 400 ("file is too big").
    if (err instanceof FileTooLargeError || (err instanceof ServiceError && err.status === 400 && /too big/i.test(err.description))) return undefined;
    throw err;
  }
}
