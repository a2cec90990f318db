import type { Message } from "@grammyjs/types";
import { TELEGRAM_GET_FILE_LIMIT_BYTES } from "../../config/defaults";
import type { UpdateContext } from "../conversation/update-context";
import { withinChatAllowance } from "../conversation/usage-gate";
import { formatSize } from "../format/views";
import { onOllamaOrigin, type AudioUpload, type Transcriber } from "../model/transcription";
import { ConnectionError, ServiceError } from "../net/errors";
import { FileTooLargeError } from "../telegram/client";
import { handleChat } from "./chat";
import { handleGroupChat } from "./group-chat";

/**
 * A voice message, an audio file or a round video note is transcribed, and the transcript is
 * the user's message: shown back first as its own quoted line (so a mishearing is seen at
 * once), then answered as typed text by the chat path (stored as the user's text, streamed,
 * with Stop and Retry). It counts as a chat message against the per-user limits.
 *
 * - Refused with one sentence, before anything is downloaded: voice off (TRANSCRIPTION_URL
 *   unset), longer than VOICE_MAX_SECONDS by Telegram's `duration`, larger than Telegram's
 *   20 MB getFile limit by its `file_size`. After the download: larger than announced, no words
 *   heard, the speech-to-text server down, slow or failing. Nothing is stored for a refusal.
 * - Once across a redelivery: the transcript is recorded in the update's journal before it is
 *   shown ({@link TRANSCRIPT_NAME}), so a rerun after a crash neither transcribes again nor
 *   shows or stores a different text; the quoted line is a journaled send, not sent twice.
 */

/** The journal's name of the transcript an attempt resolved. */
export const TRANSCRIPT_NAME = "transcript";

/** Said for a voice message when no speech-to-text server is configured. */
export const VOICE_OFF_TEXT = "Voice messages are off on this bot (no speech-to-text server is set up), so please type your message.";

/** The longest transcript the quoted line shows in full, in characters (the session keeps all of it). */
export const QUOTE_MAX_CHARS = 500;

/** Where a recording came from: a voice message, an audio file or a round video note. */
export type VoiceSource = "voice" | "audio" | "video_note";

/** A recording as the voice path needs it, read from the message before anything is fetched. */
export interface VoiceClip {
  readonly source: VoiceSource;
  readonly fileId: string;
  /** Telegram's `duration`, in seconds. */
  readonly durationSeconds: number;
  /** Telegram's `file_size`, in bytes. @default - not announced */
  readonly fileSize: number | undefined;
  /** The name it is sent to the server with; its extension names the format (`voice.ogg`). */
  readonly filename: string;
  readonly contentType: string;
}

/** What the user's side of the message is called in a sentence. */
const NOUNS: Readonly<Record<VoiceSource, string>> = { voice: "voice message", audio: "audio file", video_note: "video message" };

/** Media types by extension, of the formats the transcription servers read. */
const FORMATS: Readonly<Record<string, string>> = {
  ogg: "audio/ogg",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  mp4: "audio/mp4",
  wav: "audio/wav",
  flac: "audio/flac",
  webm: "audio/webm",
};

/** Extensions by the media types Telegram reports, and the extensions that name the same formats. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  "audio/ogg": "ogg",
  "audio/opus": "ogg",
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/mp4": "m4a",
  "audio/m4a": "m4a",
  "audio/x-m4a": "m4a",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/flac": "flac",
  "audio/x-flac": "flac",
  "audio/webm": "webm",
  oga: "ogg",
  opus: "ogg",
  mpga: "mp3",
  mpeg: "mp3",
};

/**
 * The extension a recording goes with: its file name's, when that names a known format, else its
 * media type's, else `fallback`. Telegram's own `.oga` becomes `.ogg`, which every server reads. Pure.
 */
export function audioExtension(mimeType: string | undefined, fileName: string | undefined, fallback: string): string {
  const named = /\.([a-z0-9]{2,5})$/i.exec(fileName ?? "")?.[1]?.toLowerCase();
  for (const candidate of [named, named && EXTENSIONS[named], mimeType && EXTENSIONS[mimeType.toLowerCase()]]) {
    if (candidate && FORMATS[candidate]) return candidate;
  }
  return fallback;
}

/** A message's recording (voice, then audio, then video note), or undefined when it has none. Pure. */
export function voiceClipOf(message: Message): VoiceClip | undefined {
  const clip = (source: VoiceSource, file: { file_id: unknown; duration?: unknown; file_size?: unknown }, extension: string, contentType?: string): VoiceClip | undefined => {
    if (typeof file.file_id !== "string" || file.file_id === "") return undefined;
    const duration = typeof file.duration === "number" && Number.isFinite(file.duration) ? file.duration : 0;
    const size = typeof file.file_size === "number" && Number.isFinite(file.file_size) ? file.file_size : undefined;
    return { source, fileId: file.file_id, durationSeconds: duration, fileSize: size, filename: `${source === "video_note" ? "video-note" : source}.${extension}`, contentType: contentType ?? FORMATS[extension]! };
  };
  if (message.voice) return clip("voice", message.voice, audioExtension(message.voice.mime_type, undefined, "ogg"));
  if (message.audio) return clip("audio", message.audio, audioExtension(message.audio.mime_type, message.audio.file_name, "mp3"));
  if (message.video_note) return clip("video_note", message.video_note, "mp4", "video/mp4");
  return undefined;
}

/** "45 s", "5 min", "6 min 5 s". Pure. */
export function formatSeconds(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  if (minutes === 0) return `${rest} s`;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

/** The sentence for a recording too large to download (Telegram's getFile limit). Pure. */
export function tooLargeText(clip: Pick<VoiceClip, "source" | "fileSize">): string {
  const size = clip.fileSize !== undefined && clip.fileSize > TELEGRAM_GET_FILE_LIMIT_BYTES ? ` is ${formatSize(clip.fileSize)},` : " is";
  return `That ${NOUNS[clip.source]}${size} larger than the ${formatSize(TELEGRAM_GET_FILE_LIMIT_BYTES)} Telegram lets me download. Please send a shorter one, or type your message.`;
}

/** The sentence for a transcript without words. Pure. */
export const noWordsText = (source: VoiceSource) => `I could not make out any words in that ${NOUNS[source]}. Please try again, or type your message.`;

/**
 * Why a recording is refused before anything is fetched: voice is off, it is longer than
 * `maxSeconds`, or Telegram announces it over its getFile limit; undefined when it may go. Pure.
 */
export function voiceRefusal(clip: VoiceClip, maxSeconds: number, voiceOn: boolean): { readonly reason: "off" | "too_long" | "too_large"; readonly text: string } | undefined {
  if (!voiceOn) return { reason: "off", text: VOICE_OFF_TEXT };
  if (clip.durationSeconds > maxSeconds) {
    const text = `That ${NOUNS[clip.source]} is ${formatSeconds(clip.durationSeconds)} long; I can listen to at most ${formatSeconds(maxSeconds)}. Please send a shorter one, or type your message.`;
    return { reason: "too_long", text };
  }
  if (clip.fileSize !== undefined && clip.fileSize > TELEGRAM_GET_FILE_LIMIT_BYTES) return { reason: "too_large", text: tooLargeText(clip) };
  return undefined;
}

/** The transcript as shown back: a microphone and the words in quotes, cut at a word near QUOTE_MAX_CHARS. Pure. */
export function quotedTranscript(transcript: string, maxChars: number = QUOTE_MAX_CHARS): string {
  const chars = [...transcript.trim()]; // code points: a cut never splits an emoji
  if (chars.length <= maxChars) return `🎤 “${chars.join("")}”`;
  const head = chars.slice(0, maxChars).join("");
  const space = head.lastIndexOf(" ");
  return `🎤 “${(space > maxChars / 2 ? head.slice(0, space) : head).trimEnd()}…”`;
}

/**
 * The sentence for a speech-to-text server that failed, by how: not reachable, too slow, the
 * key refused (naming the variable that holds it), an error, or an unreadable answer. Pure.
 */
export function transcriptionErrorText(err: ServiceError | ConnectionError, source: VoiceSource, timeoutMs: number, keyVariable: string): string {
  const noun = NOUNS[source];
  if (err instanceof ConnectionError) {
    if (err.timedOut) return `The speech-to-text server took too long with that ${noun} (more than ${Math.round(timeoutMs / 1000)} s). Please try again, or send a shorter one.`;
    return `I cannot reach the speech-to-text server right now (it may be stopped or starting), so I could not listen to that ${noun}. Please try again in a minute.`;
  }
  if (err.status === 401 || err.status === 403) return `The speech-to-text server refused the bot's key, so I could not listen to that ${noun}. Please tell the admin (${keyVariable}).`;
  if (err.status === 0) return `The speech-to-text server sent an answer I could not read for that ${noun}. Please try again, or type your message.`;
  return `The speech-to-text server had an error (HTTP ${err.status}) with that ${noun}. Please try again in a moment, or type your message.`;
}

/** True for a failure of the speech-to-text server itself (not Telegram's, nor the stores'). */
const isTranscriptionFailure = (err: unknown): err is ServiceError | ConnectionError =>
  (err instanceof ServiceError || err instanceof ConnectionError) && err.service === "transcription";

/**
 * Handles a recording: the refusals that need nothing fetched, then within the chat allowance
 * the transcript (journaled), its quoted line, and the answer, by the chat path in private
 * chats and apart from the sessions in groups (`quoted`: the message it replies to).
 */
export async function handleVoice(ctx: UpdateContext, clip: VoiceClip, quoted?: { readonly role: "assistant" | "user"; readonly text: string }): Promise<void> {
  const transcriber = ctx.transcription;
  const refusal = voiceRefusal(clip, ctx.config.voice.maxSeconds, transcriber !== undefined);
  if (refusal || !transcriber) {
    ctx.log.info("voice message refused", { action: "transcribe", outcome: "ignored", source: clip.source, reason: refusal?.reason ?? "off", duration_s: clip.durationSeconds });
    await ctx.reply(refusal?.text ?? VOICE_OFF_TEXT);
    return;
  }
  await withinChatAllowance(ctx, async (allowance) => {
    const transcript = await transcriptFor(ctx, clip, transcriber);
    if (transcript === undefined) return;
    await ctx.reply(quotedTranscript(transcript));
    if (ctx.message.chat.type === "private") await handleChat(ctx, transcript, undefined, allowance);
    else await handleGroupChat(ctx, transcript, quoted, allowance);
  });
}

/**
 * The recording's transcript, as an earlier attempt of the update resolved it or else fetched
 * and transcribed now (and recorded before it is returned); undefined once the user was told
 * why there is none (too large, no words, the server failed).
 */
async function transcriptFor(ctx: UpdateContext, clip: VoiceClip, transcriber: Transcriber): Promise<string | undefined> {
  let failure: string | undefined;
  const transcript = await ctx.journal.resolve(TRANSCRIPT_NAME, async () => {
    // Listening takes a while: the chat shows the bot at work meanwhile (best effort).
    ctx.bot.call("sendChatAction", { chat_id: ctx.chatId, action: "typing" }).catch(() => undefined);
    const audio = await downloadClip(ctx, clip);
    if (!audio) {
      ctx.log.info("voice message refused", { action: "transcribe", outcome: "ignored", source: clip.source, reason: "too_large" });
      failure = tooLargeText(clip);
      return undefined;
    }
    const started = Date.now();
    try {
      const text = await transcriber.transcribe(audio);
      ctx.log.info("voice message transcribed", { action: "transcribe", outcome: "success", source: clip.source, duration_s: clip.durationSeconds, bytes: audio.data.byteLength, chars: text.length, duration_ms: Date.now() - started });
      return text;
    } catch (err) {
      if (!isTranscriptionFailure(err)) throw err;
      const status = err instanceof ServiceError ? err.status : undefined;
      ctx.log.warn("could not transcribe the voice message", { action: "transcribe", outcome: "failure", source: clip.source, error_kind: err.name, status, duration_ms: Date.now() - started });
      failure = transcriptionErrorText(err, clip.source, ctx.config.ollamaTimeoutMs, keyVariableOf(ctx));
      return undefined;
    }
  });
  if (failure !== undefined) {
    await ctx.reply(failure);
    return undefined;
  }
  if (!transcript) {
    await ctx.reply(noWordsText(clip.source));
    return undefined;
  }
  return transcript;
}

/** The variable holding the key the speech-to-text server checks: the Ollama key behind the Ollama instance's nginx. */
const keyVariableOf = (ctx: UpdateContext) =>
  onOllamaOrigin(ctx.config.voice.transcriptionUrl ?? "", ctx.config.ollamaUrl) ? "OLLAMA_API_KEY" : "TRANSCRIPTION_API_KEY";

/**
 * The recording's bytes with the name and type they go to the server with, or undefined when
 * Telegram says or shows it is over its 20 MB getFile limit.
 */
async function downloadClip(ctx: UpdateContext, clip: VoiceClip): Promise<AudioUpload | undefined> {
  const limit = TELEGRAM_GET_FILE_LIMIT_BYTES;
  try {
    const file = await ctx.bot.call("getFile", { file_id: clip.fileId });
    // Telegram leaves file_path out for a file it will not serve (over its limit).
    if (!file.file_path || (file.file_size !== undefined && file.file_size > limit)) return undefined;
    const data = await ctx.bot.downloadFile(file.file_path, limit);
    return { data, filename: clip.filename, contentType: clip.contentType };
  } catch (err) {
    // Telegram refuses getFile over its own limit with a 400 ("file is too big").
    if (err instanceof FileTooLargeError || (err instanceof ServiceError && err.service === "telegram" && err.status === 400 && /too big/i.test(err.description))) return undefined;
    throw err;
  }
}
