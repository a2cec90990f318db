/**
 * What setup-webhook concludes from getWebhookInfo: a list of findings, each ok / warning /
 * problem, in words an operator can act on. Pure: it reads the WebhookInfo and what was
 * expected, and never sees the token or the secret.
 */
import type { WebhookInfo } from "@grammyjs/types";

/** How serious a finding is; any "problem" makes the script exit non-zero. */
export type FindingLevel = "ok" | "warning" | "problem";

/** One line of the diagnosis. */
export interface Finding {
  readonly level: FindingLevel;
  readonly text: string;
}

/** What the webhook should look like. */
export interface WebhookExpectation {
  /** The URL setWebhook was given (the stack's api_gateway_url). */
  readonly url: string;
  /** The update types the bot handles. */
  readonly allowedUpdates: readonly string[];
  /** Now, for the age of the last error. */
  readonly now: Date;
  /** When the webhook was (re)registered; earlier errors are history. @default - unknown */
  readonly registeredAt?: Date;
}

/** A hint for a Telegram delivery error message, or undefined. */
export function hintForDeliveryError(message: string): string | undefined {
  if (/401|403|unauthorized|forbidden/i.test(message)) {
    return "the endpoint refused Telegram: the secret token does not match the stack's webhook_secret (run setup-webhook again after each deploy)";
  }
  if (/404|not found/i.test(message)) return "nothing answers at that path: check the stage and /webhook in api_gateway_url";
  if (/5\d\d|internal server error|bad gateway/i.test(message)) return "the endpoint failed: look at the function's logs (aws logs tail /aws/lambda/<function> --follow)";
  if (/timeout|timed out/i.test(message)) return "the endpoint answered too slowly: in sync mode the function must answer within API Gateway's 29 s";
  if (/resolve|connection|refused|ssl|certificate/i.test(message)) return "Telegram could not connect: is the API deployed and the URL right?";
  return undefined;
}

function age(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

/** The diagnosis of a webhook, in a fixed order: URL, allowed updates, last error, pending updates. */
export function diagnoseWebhook(info: WebhookInfo, expected: WebhookExpectation): Finding[] {
  const findings: Finding[] = [];
  if (info.url === "") {
    findings.push({ level: "problem", text: "no webhook is set: Telegram does not deliver updates anywhere" });
  } else if (info.url !== expected.url) {
    findings.push({ level: "problem", text: `the webhook points at ${info.url}, not at the stack's ${expected.url}` });
  } else {
    findings.push({ level: "ok", text: `the webhook points at ${info.url}` });
  }

  if (info.url !== "") {
    const allowed = info.allowed_updates;
    const wanted = [...expected.allowedUpdates].sort().join(",");
    if (allowed === undefined || allowed.length === 0) {
      findings.push({ level: "warning", text: "allowed_updates is not limited: Telegram sends every update type (the bot ignores all but messages)" });
    } else if ([...allowed].sort().join(",") !== wanted) {
      findings.push({ level: "warning", text: `allowed_updates is ${allowed.join(", ")}; the bot handles ${expected.allowedUpdates.join(", ")}` });
    } else {
      findings.push({ level: "ok", text: `allowed_updates: ${allowed.join(", ")}` });
    }
  }

  if (info.last_error_message) {
    const when = info.last_error_date !== undefined ? new Date(info.last_error_date * 1000) : undefined;
    const before = when !== undefined && expected.registeredAt !== undefined && when.getTime() < expected.registeredAt.getTime() - 1000;
    const ago = when !== undefined ? ` (${age((expected.now.getTime() - when.getTime()) / 1000)})` : "";
    const hint = hintForDeliveryError(info.last_error_message);
    findings.push({
      level: before ? "warning" : "problem",
      text: `${before ? "before this setup, " : ""}Telegram's last delivery failed${ago}: ${info.last_error_message}${hint ? ` — ${hint}` : ""}`,
    });
  } else if (info.url !== "") {
    findings.push({ level: "ok", text: "no delivery error reported" });
  }

  const pending = info.pending_update_count;
  if (pending > 0) {
    findings.push({
      level: "warning",
      text: `${pending} update(s) are waiting; Telegram delivers them now (run with --drop-pending to discard them instead)`,
    });
  } else {
    findings.push({ level: "ok", text: "no updates waiting" });
  }
  return findings;
}

const MARK: Record<FindingLevel, string> = { ok: "ok     ", warning: "warning", problem: "PROBLEM" };

/** The findings as lines `ok      text`. Pure. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `  ${MARK[f.level]}  ${f.text}`).join("\n");
}
