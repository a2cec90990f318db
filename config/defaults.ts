/**
 * Settings shared by the stack, the handler, local mode, the scripts and the tests.
 * Each value is declared here once; everything else imports it.
 */

/** The models offered by /newsession, in that order; the Ollama instance pulls exactly these. */
export const DEFAULT_OLLAMA_MODELS: readonly string[] = Object.freeze(["llama3.2:1b", "qwen2.5:1.5b-instruct-q4_K_M"]);

/** Port nginx listens on in front of Ollama (checks X-API-Key); the one Lambda calls. */
export const OLLAMA_PROXY_PORT = 11434;
/** Port Ollama itself binds on 127.0.0.1, reachable only through nginx. */
export const OLLAMA_INTERNAL_PORT = 11435;
/** Header that carries the Ollama API key through the nginx proxy. */
export const OLLAMA_API_KEY_HEADER = "X-API-Key";

/** Ollama call timeout in sync delivery mode: inside API Gateway's 29 s integration limit. */
export const SYNC_OLLAMA_TIMEOUT_MS = 22_000;

/** S3 key prefix of archived sessions: archives/<user_id>/<session_id>.json. */
export const ARCHIVES_PREFIX = "archives/";
/** S3 key prefix where the Ollama instance keeps its model files between stops. */
export const MODELS_PREFIX = "models/";

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
export const USER_LIMIT_DEFAULTS: UserLimits = Object.freeze({ messagesPerHour: 30, messagesPerDay: 200, importsPerDay: 10 });

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
export const TOKEN_BUDGET_DEFAULTS: TokenBudgets = Object.freeze({ userTokensPerDay: 0, botTokensPerDay: 0 });

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
export const OLLAMA_RELEASE = Object.freeze({ version: "0.34.2" });
