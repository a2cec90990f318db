/**
 * The banner `npm start` and `npm run dev:webhook` print: what runs where and how to stop.
 * Pure: it formats what it is given and never shows a secret.
 */

/** What the banner describes. */
export interface BannerInfo {
  /** "terminal chat", "long polling as @name" or "webhook server". */
  readonly mode: string;
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  readonly s3Endpoint: string;
  readonly bucketName: string;
  readonly dataDir: string;
  readonly ollamaUrl: string;
  readonly models: readonly string[];
  /** Extra lines, label → value (exports folder, webhook URL, log file...). @default - none */
  readonly extra?: readonly (readonly [string, string])[];
  /** How to stop. @default "Ctrl-C" */
  readonly stopHint?: string;
}

/** A stand-in model server of `npm start -- --stand-in-model`, as the banner lists it. */
export interface BannerStandIn {
  /** What it stands in for: "Ollama", "Bedrock Runtime", "OpenAI-compatible API". */
  readonly serves: string;
  /** Where the handler reaches it. */
  readonly url: string;
  /** The names of the models it answers for. */
  readonly models: readonly string[];
}

/**
 * The banner's rows for the stand-ins running, one `stand-in` row each (a label no longer than
 * the others, so the columns stay where they are); none without --stand-in-model. Pure.
 */
export function standInRows(standIns: readonly BannerStandIn[]): (readonly [string, string])[] {
  return standIns.map((s) => ["stand-in", `${s.serves} at ${s.url} for ${s.models.join(", ")}`] as const);
}

/** The banner as lines of text. */
export function formatBanner(info: BannerInfo): string {
  const rows: [string, string][] = [
    ["mode", info.mode],
    ["DynamoDB", `${info.dynamodbEndpoint} (dynalite), table ${info.tableName}`],
    ["S3", `${info.s3Endpoint} (s3rver), bucket ${info.bucketName}`],
    ["data", `${info.dataDir} (kept between runs)`],
    ["Ollama", info.ollamaUrl],
    ["models", info.models.join(", ")],
    ...(info.extra ?? []).map(([label, value]) => [label, value] as [string, string]),
    ["stop", info.stopHint ?? "Ctrl-C"],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
  return ["cloud-ai bot, running locally", ...lines, ""].join("\n");
}
