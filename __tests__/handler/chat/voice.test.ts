import type { Message, Update } from "@grammyjs/types";
import { TELEGRAM_GET_FILE_LIMIT_BYTES } from "../../../config/defaults";
import {
  audioExtension,
  formatSeconds,
  noWordsText,
  QUOTE_MAX_CHARS,
  quotedTranscript,
  transcriptionErrorText,
  VOICE_OFF_TEXT,
  voiceClipOf,
  voiceRefusal,
  type VoiceClip,
} from "../../../handler/chat/voice";
import { loadConfig, type BotConfig } from "../../../handler/config";
import { ConnectionError, ServiceError } from "../../../handler/net/errors";
import { TranscriptionStandIn } from "../../../local/stand-ins/transcription";
import { injectFault, throttlingError } from "../../support/aws-faults";
import { useHarness } from "../../support/handler-harness";
import { closedPortUrl } from "../../support/net";
import { audioUpdate, resetUpdateIds, TEST_USER_ID, textUpdate, videoNoteUpdate, voiceUpdate, type RecordingOptions } from "../../support/updates";

const base = { message_id: 1, date: 0, chat: { id: 1, type: "private" as const, first_name: "A" } };
const clip = (overrides: Partial<VoiceClip> = {}): VoiceClip => ({ source: "voice", fileId: "f", durationSeconds: 3, fileSize: 1_000, filename: "voice.ogg", contentType: "audio/ogg", ...overrides });

describe("voice (pure)", () => {
  it("reads a voice message, an audio file and a video note, each with the file name and type it is sent with", () => {
    expect(voiceClipOf({ ...base, voice: { file_id: "v", file_unique_id: "u", duration: 4, mime_type: "audio/ogg", file_size: 900 } } as Message)).toEqual({
      source: "voice", fileId: "v", durationSeconds: 4, fileSize: 900, filename: "voice.ogg", contentType: "audio/ogg",
    });
    expect(voiceClipOf({ ...base, audio: { file_id: "a", file_unique_id: "u", duration: 60, mime_type: "audio/x-m4a", file_name: "memo" } } as Message)).toMatchObject({ source: "audio", filename: "audio.m4a", contentType: "audio/mp4", fileSize: undefined });
    expect(voiceClipOf({ ...base, video_note: { file_id: "n", file_unique_id: "u", duration: 9, length: 240 } } as Message)).toMatchObject({ source: "video_note", filename: "video-note.mp4", contentType: "video/mp4" });
    expect(voiceClipOf({ ...base, text: "hi" } as Message)).toBeUndefined();
  });

  it("names the format by the file name's extension, then the media type, then a default; Telegram's .oga is sent as .ogg", () => {
    expect(audioExtension("audio/mpeg", "song.flac", "mp3")).toBe("flac");
    expect(audioExtension(undefined, "voice.oga", "mp3")).toBe("ogg");
    expect(audioExtension("audio/mpeg", "song", "ogg")).toBe("mp3");
    expect(audioExtension("application/octet-stream", undefined, "ogg")).toBe("ogg");
  });

  it("says durations in minutes and seconds", () => {
    expect([formatSeconds(45), formatSeconds(300), formatSeconds(365)]).toEqual(["45 s", "5 min", "6 min 5 s"]);
  });

  it("refuses before anything is fetched: voice off, too long by duration, too large by file_size", () => {
    expect(voiceRefusal(clip(), 300, false)).toEqual({ reason: "off", text: VOICE_OFF_TEXT });
    expect(voiceRefusal(clip({ durationSeconds: 365 }), 300, true)).toEqual({ reason: "too_long", text: "That voice message is 6 min 5 s long; I can listen to at most 5 min. Please send a shorter one, or type your message." });
    expect(voiceRefusal(clip({ source: "audio", fileSize: 25 * 1024 * 1024 }), 300, true)).toEqual({
      reason: "too_large",
      text: "That audio file is 25.0 MB, larger than the 20.0 MB Telegram lets me download. Please send a shorter one, or type your message.",
    });
    expect(voiceRefusal(clip({ durationSeconds: 300, fileSize: TELEGRAM_GET_FILE_LIMIT_BYTES }), 300, true)).toBeUndefined();
  });

  it("quotes the transcript, cut at a word past QUOTE_MAX_CHARS", () => {
    expect(quotedTranscript("  hello there ")).toBe("🎤 “hello there”");
    const long = quotedTranscript("word ".repeat(200));
    expect(long.startsWith("🎤 “word word")).toBe(true);
    expect(long.endsWith("word…”")).toBe(true);
    expect(long.length).toBeLessThanOrEqual(QUOTE_MAX_CHARS + 5);
  });

  it("says how the speech-to-text server failed, in plain words", () => {
    const refused = new ConnectionError({ service: "transcription", operation: "transcribe", timedOut: false, elapsedMs: 3 });
    const slow = new ConnectionError({ service: "transcription", operation: "transcribe", timedOut: true, elapsedMs: 22_000 });
    const status = (code: number) => new ServiceError({ service: "transcription", operation: "transcribe", status: code, description: "x" });
    expect(transcriptionErrorText(refused, "voice", 22_000, "K")).toBe(
      "I cannot reach the speech-to-text server right now (it may be stopped or starting), so I could not listen to that voice message. Please try again in a minute.",
    );
    expect(transcriptionErrorText(slow, "video_note", 22_000, "K")).toBe("The speech-to-text server took too long with that video message (more than 22 s). Please try again, or send a shorter one.");
    expect(transcriptionErrorText(status(401), "voice", 22_000, "OLLAMA_API_KEY")).toBe(
      "The speech-to-text server refused the bot's key, so I could not listen to that voice message. Please tell the admin (OLLAMA_API_KEY).",
    );
    expect(transcriptionErrorText(status(500), "audio", 22_000, "K")).toBe("The speech-to-text server had an error (HTTP 500) with that audio file. Please try again in a moment, or type your message.");
    expect(transcriptionErrorText(status(0), "voice", 22_000, "K")).toBe("The speech-to-text server sent an answer I could not read for that voice message. Please try again, or type your message.");
  });
});

describe("voice settings (handler/config.ts)", () => {
  it("are off by default, with whisper-1 and 300 s", () => {
    expect(loadConfig({}).voice).toEqual({ transcriptionUrl: undefined, model: "whisper-1", apiKey: undefined, language: undefined, maxSeconds: 300 });
  });

  it("read TRANSCRIPTION_URL, _MODEL, _API_KEY, _LANGUAGE and VOICE_MAX_SECONDS", () => {
    const voice = loadConfig({ TRANSCRIPTION_URL: "http://127.0.0.1:8080/v1/audio/transcriptions", TRANSCRIPTION_MODEL: "base", TRANSCRIPTION_API_KEY: "k-123", TRANSCRIPTION_LANGUAGE: "DE", VOICE_MAX_SECONDS: "60" }).voice;
    expect(voice).toEqual({ transcriptionUrl: "http://127.0.0.1:8080/v1/audio/transcriptions", model: "base", apiKey: "k-123", language: "de", maxSeconds: 60 });
  });

  it("report a bad URL, language or limit and fall back", () => {
    const config = loadConfig({ TRANSCRIPTION_URL: "ftp://x", TRANSCRIPTION_LANGUAGE: "English", VOICE_MAX_SECONDS: "0" });
    expect(config.voice).toMatchObject({ transcriptionUrl: undefined, language: undefined, maxSeconds: 300 });
    expect(config.problems.map((p) => p.variable)).toEqual(expect.arrayContaining(["TRANSCRIPTION_URL", "TRANSCRIPTION_LANGUAGE", "VOICE_MAX_SECONDS"]));
  });
});

/** Voice messages through the handler: Telegram stand-in files, the transcription stand-in, the Ollama stand-in. */
describe("voice messages (through the handler)", () => {
  const h = useHarness({ deps: { now: () => clock } });
  let clock = Date.UTC(2026, 11, 6, 14, 35);
  let stt: TranscriptionStandIn;
  let user = TEST_USER_ID + 97_000;
  let files = 0;
  const transcripts: Record<string, string> = {
    "ogg: capital": "What is the capital of France?",
    "mp3: memo": "Remind me to buy milk.",
    "mp4: note": "Hello from a video note.",
  };

  beforeAll(async () => {
    stt = await TranscriptionStandIn.start({ transcripts });
  });
  afterAll(async () => {
    await stt.stop();
  });
  beforeEach(() => {
    resetUpdateIds();
    user += 1;
    clock = Date.UTC(2026, 11, 6, 14, 35);
  });

  const on = (overrides: Partial<BotConfig> = {}) => h.createBotHandler({ voice: { ...h.config.voice, transcriptionUrl: stt.url }, ...overrides });
  const replies = () => h.repliesTo(user);
  const getFiles = () => h.telegram.callsTo("getFile").length;
  /** A recording registered with the Telegram stand-in (its bytes stand for the audio), as its update. */
  const recording = (kind: "voice" | "audio" | "video_note", content: string | Buffer, options: RecordingOptions = {}): Update => {
    const path = { voice: "voice/file.oga", audio: "music/file.mp3", video_note: "video_notes/file.mp4" }[kind].replace("file", `file_${(files += 1)}`);
    const stored = h.telegram.addFile(typeof content === "string" ? Buffer.from(content) : content, { filePath: path });
    const build = { voice: voiceUpdate, audio: audioUpdate, video_note: videoNoteUpdate }[kind];
    return build(stored.file_id, { userId: user, fileSize: stored.file_size, ...options });
  };

  it("answers a voice message from its transcript: the transcript quoted first, then the answer; both stored", async () => {
    const handler = on();
    const before = stt.requests.length;
    await h.send(recording("voice", "ogg: capital"), { handler });
    expect(replies()).toEqual(["🎤 “What is the capital of France?”", "You said: What is the capital of France?"]);
    expect(await h.conversationOf(user)).toEqual(["user:What is the capital of France?", "assistant:You said: What is the capital of France?"]);
    expect(stt.requests.slice(before)).toEqual([expect.objectContaining({ model: "whisper-1", file: { filename: "voice.ogg", contentType: "audio/ogg", bytes: 12 } })]);
    expect(h.ollama.chatRequests().at(-1)!.messages.at(-1)).toMatchObject({ role: "user", content: "What is the capital of France?" });
  });

  it("shows and stores the transcript once when the update is handled again after its completion was lost", async () => {
    const handler = on();
    const update = recording("voice", "ogg: capital");
    const before = stt.requests.length;
    const isCompletion = (input: Record<string, unknown>) => JSON.stringify(input.ExpressionAttributeValues ?? {}).includes("COMPLETED");
    const lost = injectFault(h.doc, { operation: "UpdateItem", times: 10, when: isCompletion, error: throttlingError });
    try {
      await h.send(update, { handler });
    } finally {
      lost.remove();
    }
    clock += 10 * 60_000; // past the first attempt's lease
    await h.send(update, { handler });
    expect(h.logEntries()).toContainEqual(expect.objectContaining({ message: "update handled again after an earlier attempt", update_id: update.update_id }));
    expect(stt.requests.length - before).toBe(1);
    expect(replies()).toEqual(["🎤 “What is the capital of France?”", "You said: What is the capital of France?"]);
    expect(await h.conversationOf(user)).toEqual(["user:What is the capital of France?", "assistant:You said: What is the capital of France?"]);
  });

  it("refuses a recording longer than VOICE_MAX_SECONDS by its duration, without fetching it", async () => {
    const handler = on({ voice: { ...h.config.voice, transcriptionUrl: stt.url, maxSeconds: 60 } });
    const [calls, asked] = [getFiles(), stt.requests.length];
    await h.send(recording("voice", "ogg: capital", { duration: 61 }), { handler });
    expect(replies()).toEqual(["That voice message is 1 min 1 s long; I can listen to at most 1 min. Please send a shorter one, or type your message."]);
    expect([getFiles(), stt.requests.length]).toEqual([calls, asked]);
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it("refuses a recording Telegram announces over its 20 MB getFile limit, without fetching it", async () => {
    const calls = getFiles();
    await h.send(recording("audio", "mp3: memo", { fileSize: TELEGRAM_GET_FILE_LIMIT_BYTES + 1 }), { handler: on() });
    expect(replies()).toEqual(["That audio file is 20.0 MB, larger than the 20.0 MB Telegram lets me download. Please send a shorter one, or type your message."]);
    expect(getFiles()).toBe(calls);
  });

  it("refuses a recording that turns out over the limit when getFile is asked (no file_size announced)", async () => {
    const asked = stt.requests.length;
    await h.send(recording("voice", Buffer.alloc(TELEGRAM_GET_FILE_LIMIT_BYTES + 1), { fileSize: undefined }), { handler: on() });
    expect(replies()).toEqual(["That voice message is larger than the 20.0 MB Telegram lets me download. Please send a shorter one, or type your message."]);
    expect(stt.requests.length).toBe(asked);
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it("says so when no words were heard, and stores nothing", async () => {
    stt.failNext({ kind: "empty" });
    await h.send(recording("voice", "ogg: capital"), { handler: on() });
    expect(replies()).toEqual([noWordsText("voice")]);
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it("says so when the speech-to-text server is down, and stores nothing", async () => {
    const handler = on({ voice: { ...h.config.voice, transcriptionUrl: `${await closedPortUrl()}/v1/audio/transcriptions` } });
    await h.send(recording("voice", "ogg: capital"), { handler });
    expect(replies()).toEqual(["I cannot reach the speech-to-text server right now (it may be stopped or starting), so I could not listen to that voice message. Please try again in a minute."]);
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it("says so when the speech-to-text server is too slow or fails, and stores nothing", async () => {
    stt.failNext({ kind: "hang" });
    await h.send(recording("voice", "ogg: capital"), { handler: on({ ollamaTimeoutMs: 1_000 }) });
    stt.failNext({ kind: "status", status: 500 });
    await h.send(recording("video_note", "mp4: note"), { handler: on() });
    expect(replies()).toEqual([
      "The speech-to-text server took too long with that voice message (more than 1 s). Please try again, or send a shorter one.",
      "The speech-to-text server had an error (HTTP 500) with that video message. Please try again in a moment, or type your message.",
    ]);
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it("says in one sentence that voice is off without TRANSCRIPTION_URL, and fetches nothing", async () => {
    const calls = getFiles();
    await h.send(recording("voice", "ogg: capital"));
    expect(replies()).toEqual([VOICE_OFF_TEXT]);
    expect(getFiles()).toBe(calls);
  });

  it("answers an audio file and a video note, each sent with its own format", async () => {
    const handler = on();
    const before = stt.requests.length;
    await h.send(recording("audio", "mp3: memo", { fileName: "memo.m4a", mimeType: "audio/mp4", duration: 20 }), { handler });
    await h.send(recording("video_note", "mp4: note"), { handler });
    expect(replies()).toEqual(["🎤 “Remind me to buy milk.”", "You said: Remind me to buy milk.", "🎤 “Hello from a video note.”", "You said: Hello from a video note."]);
    expect(stt.requests.slice(before).map((r) => r.file)).toEqual([
      { filename: "audio.m4a", contentType: "audio/mp4", bytes: 9 },
      { filename: "video-note.mp4", contentType: "video/mp4", bytes: 9 },
    ]);
  });

  it("counts a voice message against the per-user message limit, and refuses one past it before transcribing", async () => {
    const handler = on({ userLimits: { messagesPerHour: 2, messagesPerDay: 0, importsPerDay: 0 } });
    await h.send(textUpdate("first", { userId: user }), { handler });
    await h.send(recording("voice", "ogg: capital"), { handler });
    const asked = stt.requests.length;
    await h.send(recording("voice", "mp3: memo"), { handler });
    expect(replies().at(-1)).toMatch(/^You reached the limit of 2 messages per hour\./);
    expect(stt.requests.length).toBe(asked);
  });

  it("retries a voice message's answer from its stored transcript", async () => {
    const handler = on();
    await h.send(recording("voice", "ogg: capital"), { handler });
    const asked = stt.requests.length;
    await h.send(textUpdate("/retry", { userId: user }), { handler });
    expect(h.ollama.chatRequests().at(-1)!.messages.at(-1)).toMatchObject({ role: "user", content: "What is the capital of France?" });
    expect(stt.requests.length).toBe(asked);
  });

  it("in a group, leaves a voice message that is not a reply to the bot alone", async () => {
    const group = -5_000 - user;
    const asked = stt.requests.length;
    await h.send(recording("voice", "ogg: capital", { chatId: group, chatType: "group" }), { handler: on() });
    expect(h.repliesTo(group)).toEqual([]);
    expect(stt.requests.length).toBe(asked);
  });

  it("in a group, answers a voice reply to the bot apart from the sessions, with the message it replies to as context", async () => {
    const group = -6_000 - user;
    const botMessage = { message_id: 77, date: 0, chat: { id: group, type: "group" as const, title: "g" }, from: { id: h.telegram.botId, is_bot: true, first_name: "Test Bot" }, text: "Ask me anything.", reply_to_message: undefined };
    await h.send(recording("voice", "ogg: capital", { chatId: group, chatType: "group", replyTo: botMessage }), { handler: on() });
    expect(h.repliesTo(group)).toEqual(["🎤 “What is the capital of France?”", "You said: What is the capital of France?"]);
    expect(h.ollama.chatRequests().at(-1)!.messages.map((m) => m.role)).toEqual(["assistant", "user"]);
    expect(await h.conversationOf(user)).toEqual([]);
  });
});
