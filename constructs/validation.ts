import { Token } from "cdktf";

/**
 * Prop validation shared by the constructs: each construct lists its rules in a small table
 * and calls {@link validateProps} in its constructor, so an invalid setting fails at synth time
 * with a lowercase message that names the setting, the value received and what is allowed.
 */

/** One rule: the setting's name, the value received, whether it is acceptable, and what is allowed. */
export interface PropRule {
  readonly setting: string;
  readonly value: unknown;
  /** True when the value is acceptable. Rules on unresolved tokens are skipped by the helpers below. */
  readonly ok: boolean;
  readonly allowed: string;
}

/** Throws for the first rule that does not hold. */
export function validateProps(construct: string, rules: readonly PropRule[]): void {
  for (const rule of rules) {
    if (!rule.ok) {
      const received = rule.value === undefined ? "undefined" : JSON.stringify(rule.value);
      throw new Error(`${construct}: invalid ${rule.setting}: got ${received}; allowed: ${rule.allowed}`);
    }
  }
}

/** True when the value is a Terraform reference (a token) whose value is only known at deploy time. */
export function isToken(value: unknown): boolean {
  return (typeof value === "string" || typeof value === "number") && Token.isUnresolved(value);
}

/** A rule on a whole number in [min, max]; a token passes (Terraform validates variables). */
export function integerRule(setting: string, value: number, min: number, max: number): PropRule {
  return {
    setting,
    value,
    ok: isToken(value) || (Number.isInteger(value) && value >= min && value <= max),
    allowed: `a whole number from ${min} to ${max}`,
  };
}

/** A rule on a string that must match a pattern; a token passes. */
export function patternRule(setting: string, value: string | undefined, pattern: RegExp, allowed: string): PropRule {
  return { setting, value, ok: value !== undefined && (isToken(value) || pattern.test(value)), allowed };
}

/** A rule on a value that must be one of a list; a token passes. */
export function oneOfRule(setting: string, value: string | number, allowed: readonly (string | number)[]): PropRule {
  return { setting, value, ok: isToken(value) || allowed.includes(value), allowed: allowed.join(", ") };
}
