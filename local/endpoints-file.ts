/**
 * `.data/local-endpoints.json`: written while `npm start` (or dev:webhook) runs, removed on
 * exit. dynalite's leveldb folder cannot be opened by two processes, so view-data --local
 * reads this file to use the running emulators instead of starting its own.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";

/** What the file holds: enough for an SDK client to reach the running emulators. */
export interface LocalEndpoints {
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly region: string;
  /** Process that wrote the file; a file whose process is gone is stale. */
  readonly pid: number;
}

/** The endpoints of running emulators, as this process's record. */
export function endpointsOf(
  emulators: Pick<LocalEndpoints, "dynamodbEndpoint" | "s3Endpoint" | "tableName" | "bucketName" | "region">,
  pid: number = process.pid,
): LocalEndpoints {
  const { dynamodbEndpoint, s3Endpoint, tableName, bucketName, region } = emulators;
  return { dynamodbEndpoint, s3Endpoint, tableName, bucketName, region, pid };
}

/** Writes the file atomically (temporary file, then rename). */
export async function writeEndpointsFile(file: string, endpoints: LocalEndpoints): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(endpoints, null, 2)}\n`, "utf8");
  await rename(temporary, file);
}

/** Removes the file if it is ours (written by this process); never fails. */
export async function removeEndpointsFile(file: string, pid: number = process.pid): Promise<void> {
  const current = await readEndpointsFile(file, () => true);
  if (current === undefined || current.pid === pid) await rm(file, { force: true }).catch(() => undefined);
}

/** True when a process with this id exists (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Reads the file; undefined when it is missing, malformed or stale (its process is gone).
 * @default isAlive - processAlive
 */
export async function readEndpointsFile(file: string, isAlive: (pid: number) => boolean = processAlive): Promise<LocalEndpoints | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object") return undefined;
  const e = parsed as Record<string, unknown>;
  const strings = ["dynamodbEndpoint", "s3Endpoint", "tableName", "bucketName", "region"] as const;
  if (!strings.every((k) => typeof e[k] === "string") || typeof e.pid !== "number") return undefined;
  const endpoints = parsed as LocalEndpoints;
  return isAlive(endpoints.pid) ? endpoints : undefined;
}
