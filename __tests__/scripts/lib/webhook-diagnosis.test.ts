import type { WebhookInfo } from "@grammyjs/types";
import { diagnoseWebhook, formatFindings, hintForDeliveryError } from "../../../scripts/lib/webhook-diagnosis";

const URL = "https://abc.execute-api.us-east-1.amazonaws.com/dev/webhook";
const now = new Date("2025-01-20T12:00:00Z");
const info = (extra: Partial<WebhookInfo> = {}): WebhookInfo => ({
  url: URL,
  has_custom_certificate: false,
  pending_update_count: 0,
  allowed_updates: ["message"],
  ...extra,
});

describe("diagnoseWebhook", () => {
  it("reports a healthy webhook with no problem", () => {
    const findings = diagnoseWebhook(info(), { url: URL, allowedUpdates: ["message"], now });
    expect(findings.every((f) => f.level === "ok")).toBe(true);
  });

  it("flags a webhook pointing elsewhere", () => {
    const findings = diagnoseWebhook(info({ url: "https://old.example/webhook" }), { url: URL, allowedUpdates: ["message"], now });
    expect(findings[0]).toEqual({ level: "problem", text: expect.stringContaining("points at https://old.example/webhook") });
  });

  it("explains a recent delivery error with a hint", () => {
    const findings = diagnoseWebhook(
      info({ last_error_message: "Wrong response from the webhook: 401 Unauthorized", last_error_date: now.getTime() / 1000 - 120 }),
      { url: URL, allowedUpdates: ["message"], now },
    );
    const error = findings.find((f) => f.text.includes("last delivery failed"));
    expect(error?.level).toBe("problem");
    expect(error?.text).toMatch(/2 min ago.*secret token/);
  });

  it("treats an error older than the new registration as history", () => {
    const findings = diagnoseWebhook(info({ last_error_message: "Connection refused", last_error_date: now.getTime() / 1000 - 3600 }), {
      url: URL,
      allowedUpdates: ["message"],
      now,
      registeredAt: now,
    });
    expect(findings.find((f) => f.text.includes("last delivery failed"))?.level).toBe("warning");
  });

  it("warns about pending updates and unlimited update types", () => {
    const findings = diagnoseWebhook(info({ pending_update_count: 3, allowed_updates: undefined }), { url: URL, allowedUpdates: ["message"], now });
    expect(findings.filter((f) => f.level === "warning").map((f) => f.text)).toEqual([
      expect.stringContaining("not limited"),
      expect.stringContaining("3 update(s) are waiting"),
    ]);
  });

  it("formats one finding per line with its level", () => {
    expect(formatFindings([{ level: "problem", text: "x" }, { level: "ok", text: "y" }])).toBe("  PROBLEM  x\n  ok       y");
  });

  it("has no hint for an unknown error", () => {
    expect(hintForDeliveryError("something odd")).toBeUndefined();
  });
});
