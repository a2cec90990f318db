/**
 * The checks of the stack's settings (config/stack-config.ts, config/releases.ts): each returns
 * the value when it is acceptable and otherwise throws an Error whose lowercase message names the
 * setting, the value received and what is allowed. Pure; no cdktf.
 */

/** A value as an error message shows it. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(value) ?? String(value);
}

/** Throws `invalid <setting>: got <value>; allowed: <allowed>`. */
export function fail(setting: string, value: unknown, allowed: string): never {
  throw new Error(`invalid ${setting}: got ${describeValue(value)}; allowed: ${allowed}`);
}

/** The value when it is one of `allowed`. */
export function oneOf<T extends string>(setting: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  return fail(setting, value, allowed.join(", "));
}

/** The value when it is a string matching `pattern`. */
export function matching(setting: string, value: unknown, pattern: RegExp, allowed: string): string {
  if (typeof value === "string" && pattern.test(value)) return value;
  return fail(setting, value, allowed);
}

/** The value when it is a whole number in [min, max]. */
export function integer(setting: string, value: unknown, min: number, max: number): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  return fail(setting, value, `a whole number from ${min} to ${max}`);
}

/** undefined for an unset (undefined, null or "") value, else the checked value. */
export function optional<T>(value: T | undefined | null | "", check: (v: T) => T): T | undefined {
  return value === undefined || value === null || value === "" ? undefined : check(value as T);
}
