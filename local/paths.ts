/**
 * Where local mode keeps things, relative to the project directory. `npm start`,
 * `npm run dev:webhook` and `npm run view-data -- --local` agree on these.
 */
import { join, resolve } from "node:path";

/** Data folder of local mode (emulator data, polling offset, endpoints file, logs). */
export const DEFAULT_DATA_DIR = ".data";
/** Folder the terminal chat saves documents the bot sends (/export). */
export const DEFAULT_EXPORTS_DIR = "exports";
/** File, inside the data folder, naming the running emulators' endpoints. */
export const ENDPOINTS_FILE_NAME = "local-endpoints.json";
/** File, inside the data folder, holding the next getUpdates offset. */
export const OFFSET_FILE_NAME = "telegram-offset.json";
/** File, inside the data folder, the handler's JSON log lines go to in terminal chat mode. */
export const LOG_FILE_NAME = "bot.log";

/** The folders and files of one local data folder. */
export interface LocalPaths {
  readonly dataDir: string;
  readonly endpointsFile: string;
  readonly offsetFile: string;
  readonly logFile: string;
}

/** Absolute paths under a data folder. @default dataDir - ".data" under cwd */
export function localPaths(dataDir: string = DEFAULT_DATA_DIR, cwd: string = process.cwd()): LocalPaths {
  const dir = resolve(cwd, dataDir);
  return {
    dataDir: dir,
    endpointsFile: join(dir, ENDPOINTS_FILE_NAME),
    offsetFile: join(dir, OFFSET_FILE_NAME),
    logFile: join(dir, LOG_FILE_NAME),
  };
}
