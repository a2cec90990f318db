/**
 * Settings shared by the stack, the handler, local mode, the scripts and the tests.
 * Each value is declared here once; everything else imports it.
 */

/** The models offered by /newsession, in that order; the Ollama instance pulls exactly these. */
/** The project's name when the config names none: resource names and the metrics' namespace start with it. */
export const DEFAULT_PROJECT_NAME = "ai-chatbot";

export const DEFAULT_OLLAMA_MODELS: readonly string[] = /* @__PURE__ */ Object.freeze(["llama3.2:1b", "qwen2.5:1.5b-instruct-q4_K_M"]);

/** Port nginx listens on in front of Ollama (checks X-API-Key); the one Lambda calls. */
export const OLLAMA_PROXY_PORT = 11434;
/** Port Ollama itself binds on 127.0.0.1, reachable only through nginx. */
export const OLLAMA_INTERNAL_PORT = 11435;
/** Header that carries the Ollama API key through the nginx proxy. */
export const OLLAMA_API_KEY_HEADER = "X-API-Key";
/** Port whisper.cpp's server (voice transcription) binds on 127.0.0.1, reachable only through nginx. */
export const WHISPER_INTERNAL_PORT = 8178;
/**
 * Path of the transcription endpoint, OpenAI's (multipart POST with a `file`): on the proxy, and
 * on whisper.cpp's server (its --inference-path), so nginx forwards it unchanged.
 */
export const TRANSCRIPTION_PATH = "/v1/audio/transcriptions";

/** Ollama call timeout in sync delivery mode: inside API Gateway's 29 s integration limit. */
export const SYNC_OLLAMA_TIMEOUT_MS = 22_000;

/** S3 key prefix of archived sessions: archives/<user_id>/<session_id>.json. */
export const ARCHIVES_PREFIX = "archives/";
/** S3 key prefix where the Ollama instance keeps its model files between stops. */
export const MODELS_PREFIX = "models/";
/**
 * S3 key prefix of whisper.cpp's model files: under MODELS_PREFIX, so the instance's role covers
 * it, and left out of Ollama's own sync (which deletes what Ollama does not have).
 */
export const WHISPER_MODELS_PREFIX = `${MODELS_PREFIX}whisper/`;

/** Header Telegram sends with the webhook secret token. */
export const TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";

/** Telegram's limit on the files a bot may download (getFile), in bytes: 20 MB. */
export const TELEGRAM_GET_FILE_LIMIT_BYTES = 20 * 1024 * 1024;

/** Telegram's limit on one message's text, in UTF-16 code units. */
export const TELEGRAM_MESSAGE_LIMIT = 4096;

/** Name prefix for CloudWatch metrics of the bot. */
export const METRIC_NAMESPACE = "TelegramBot";

/**
 * Per-user limits (the bill's ceiling; 0: no limit): chat messages a user may send per clock hour
 * and per day (UTC), and archives they may import per day. The stack's defaults, and the handler's
 * when its USER_MESSAGES_PER_HOUR / USER_MESSAGES_PER_DAY / USER_IMPORTS_PER_DAY are unset.
 */
export const USER_LIMIT_DEFAULTS: UserLimits = /* @__PURE__ */ Object.freeze({ messagesPerHour: 30, messagesPerDay: 200, importsPerDay: 10 });

/** Per-user limits; 0 means no limit. */
export interface UserLimits {
  readonly messagesPerHour: number;
  readonly messagesPerDay: number;
  readonly importsPerDay: number;
}

/**
 * Token budgets per UTC day (input plus output tokens, as the providers count them; 0: none):
 * one user's, and the whole bot's. The stack's defaults, and the handler's when its
 * USER_TOKENS_PER_DAY / BOT_TOKENS_PER_DAY are unset.
 */
export const TOKEN_BUDGET_DEFAULTS: TokenBudgets = /* @__PURE__ */ Object.freeze({ userTokensPerDay: 0, botTokensPerDay: 0 });

/** Token budgets per UTC day; 0 means none. */
export interface TokenBudgets {
  readonly userTokensPerDay: number;
  readonly botTokensPerDay: number;
}

/**
 * The Ollama release the instance installs by default, from
 * https://github.com/ollama/ollama/releases. Bump it (and `ollamaSha256`) deliberately: the
 * instance is replaced when its user data changes.
 */
export const OLLAMA_RELEASE = /* @__PURE__ */ Object.freeze({ version: "0.34.2" });

/**
 * The whisper.cpp release the Ollama instance builds its transcription server from: the source
 * archive GitHub makes of the tag (https://github.com/ggml-org/whisper.cpp/archive/refs/tags/v<version>.tar.gz)
 * and its SHA-256. whisper.cpp publishes no checksum file, so the hash is pinned here; this one is
 * the `git archive` of the tag compressed with `gzip -n` (the method that reproduces Homebrew's
 * hashes of v1.8.5 and v1.8.6), and it equals Homebrew's whisper-cpp formula of v1.8.7. Bump both
 * deliberately: the instance is replaced when its user data changes.
 */
export const WHISPER_RELEASE = /* @__PURE__ */ Object.freeze({ version: "1.8.7", sha256: "0b988ba5053cfa720f6d399f3f21885b01c4222178be435ca2272d6872717554" });

/**
 * The FFmpeg release the instance builds (a minimal, audio-only ffmpeg: Amazon Linux 2023 has
 * no ffmpeg package) for whisper.cpp's --convert, which turns Telegram's OGG/Opus into WAV:
 * https://ffmpeg.org/releases/ffmpeg-<version>.tar.xz and its SHA-256, the value that several
 * unrelated projects pin for that archive (FFmpeg signs its releases with GPG; it publishes no
 * checksum file). Bump both deliberately.
 */
export const FFMPEG_RELEASE = /* @__PURE__ */ Object.freeze({ version: "8.1.3", sha256: "7138d28c96d9d3e3af4ee3d8cad72741f8ffb40da90c1112235dea3ecd3178a3" });

/** The whisper.cpp model the instance transcribes with by default: multilingual, 142 MiB, fast enough on a t3.large's CPU. */
export const DEFAULT_TRANSCRIPTION_MODEL = "base";
