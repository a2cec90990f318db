/**
 * What a user is told when a per-user limit stops them: which limit, and when it resets, as a
 * UTC clock time and how long from now. Pure.
 */

/** The limit that was hit (see store/usage-limits.ts and store/chat-usage.ts). */
export interface LimitHit {
  /** Messages, imports, the user's tokens, or the whole bot's tokens. */
  readonly kind: "chat" | "import" | "userTokens" | "botTokens";
  readonly window: "hour" | "day";
  readonly limit: number;
  /** Epoch ms. */
  readonly resetsAt: number;
  /** What was used of it (tokens). @default - not said */
  readonly used?: number;
}

const count = (n: number) => n.toLocaleString("en-US");

/** "23 min", "5 h 12 min", "1 h"; at least one minute. */
export function waitText(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** The message for `hit` at time `now` (epoch ms). */
export function usageLimitText(hit: LimitHit, now: number): string {
  if (hit.kind === "userTokens" || hit.kind === "botTokens") return tokenLimitText(hit, now);
  const what = hit.kind === "chat" ? `${hit.limit} message${hit.limit === 1 ? "" : "s"}` : `${hit.limit} import${hit.limit === 1 ? "" : "s"}`;
  const period = hit.window === "hour" ? "per hour" : "per day";
  const clock = new Date(hit.resetsAt).toISOString().slice(11, 16);
  const again = hit.kind === "chat" ? "send messages" : "import archives";
  const nothing = hit.kind === "chat" ? "This message was not sent to the model or saved." : "This file was not imported.";
  return [
    `You reached the limit of ${what} ${period}.`,
    `You can ${again} again at ${clock} UTC (in ${waitText(hit.resetsAt - now)}). ${nothing}`,
  ].join("\n");
}

/** The message for a token budget: whose, how much was used, and when it resets. */
function tokenLimitText(hit: LimitHit, now: number): string {
  const clock = new Date(hit.resetsAt).toISOString().slice(11, 16);
  const used = hit.used !== undefined ? ` (${count(hit.used)} used)` : "";
  const whose = hit.kind === "userTokens" ? `You reached your limit of ${count(hit.limit)} tokens per day${used}.` : `The bot reached its limit of ${count(hit.limit)} tokens per day for everyone${used}.`;
  return [whose, `You can chat again at ${clock} UTC (in ${waitText(hit.resetsAt - now)}). This message was not sent to the model or saved.`].join("\n");
}
