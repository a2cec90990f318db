import { createHash, timingSafeEqual } from "node:crypto";
import { TELEGRAM_SECRET_HEADER } from "../../config/defaults";

/**
 * Step 1 of the webhook pipeline: is this request from Telegram? Telegram sends the secret
 * given to setWebhook in X-Telegram-Bot-Api-Secret-Token. Pure.
 */

/** The parts of a proxy event (or an authorizer's request event) the secret check reads. */
export interface HeaderSource {
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
}

/** A header's value by name in any case (REST APIs keep the sender's case); the last of repeats. */
export function headerValue(event: HeaderSource, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && typeof value === "string") return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && Array.isArray(values) && values.length > 0) return values[values.length - 1];
  }
  return undefined;
}

/**
 * True when `received` equals `expected`. Both sides are hashed first, so the comparison is
 * constant-time and equal-length whatever was sent, and the secret's length does not leak either.
 */
export function secretsEqual(received: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(received), digest(expected));
}

/** True when the request carries the expected secret in X-Telegram-Bot-Api-Secret-Token. */
export function secretTokenMatches(event: HeaderSource, expected: string): boolean {
  const received = headerValue(event, TELEGRAM_SECRET_HEADER);
  return received !== undefined && secretsEqual(received, expected);
}

/**
 * Whether a webhook request may go on: only with the right secret. Without a configured secret,
 * never when one is `required` (in Lambda: a blank setting must not turn the check off), always
 * otherwise (local mode without one).
 */
export function authenticate(event: HeaderSource, expectedSecret: string | undefined, required = false): boolean {
  if (expectedSecret === undefined) return !required;
  return secretTokenMatches(event, expectedSecret);
}
