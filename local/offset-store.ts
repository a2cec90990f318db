/**
 * The getUpdates offset of long polling, kept in a file so a restart neither repeats nor drops
 * updates: the offset is saved after each update is handled, and the next getUpdates passes it,
 * which also confirms the handled updates to Telegram.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** Where the next offset is kept. */
export interface OffsetStore {
  /** The saved offset, or undefined before the first update. */
  load(): Promise<number | undefined>;
  /** Saves the offset (update_id of the last handled update + 1). */
  save(offset: number): Promise<void>;
}

/**
 * An OffsetStore in a JSON file (`{ "offset": n, "botId": "..." }`), written atomically. The
 * bot id (the number before ":" in the token, not a secret) is stored too: an offset of another
 * bot is ignored, since update ids are per bot.
 */
export class FileOffsetStore implements OffsetStore {
  constructor(
    private readonly file: string,
    /** Bot id the offset belongs to. @default - any */
    private readonly botId?: string,
  ) {}

  async load(): Promise<number | undefined> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.file, "utf8"));
    } catch {
      return undefined;
    }
    if (parsed === null || typeof parsed !== "object") return undefined;
    const { offset, botId } = parsed as { offset?: unknown; botId?: unknown };
    if (this.botId !== undefined && botId !== this.botId) return undefined;
    return typeof offset === "number" && Number.isSafeInteger(offset) ? offset : undefined;
  }

  async save(offset: number): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ offset, ...(this.botId !== undefined ? { botId: this.botId } : {}) })}\n`, "utf8");
    await rename(temporary, this.file);
  }
}

/** The bot id of a token: the part before ":" (public: it is the bot's user id). */
export function botIdOf(token: string): string {
  return token.split(":")[0] ?? "";
}
