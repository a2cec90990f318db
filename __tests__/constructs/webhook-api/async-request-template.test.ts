import { ASYNC_REQUEST_TEMPLATE } from "../../../constructs/webhook-api/async-request-template";
import { isAsyncDelivery } from "../../../handler/delivery/decode";

/**
 * Stands in for API Gateway's evaluation of this one template with sample values. Not a VTL
 * engine: it expands exactly the constructs the template uses, so the JSON shape can be checked.
 */
function renderWithSamples(headers: Record<string, string>, body: string): string {
  const escape = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  const lines = ASYNC_REQUEST_TEMPLATE.split("\n").filter((l) => !l.startsWith("##") && !l.startsWith("#set"));
  const start = lines.findIndex((l) => l.startsWith("#foreach"));
  const end = lines.findIndex((l) => l === "#end");
  const entry = lines[start + 1];
  const names = Object.keys(headers);
  const rendered = names.map((name, i) =>
    entry
      .replace(/"\$util\.escapeJavaScript\(\$name\)[^"]*\("\\\\'", "'"\)"/, `"${escape(name)}"`)
      .replace(/"\$util\.escapeJavaScript\(\$headers\.get\(\$name\)\)[^"]*\("\\\\'", "'"\)"/, `"${escape(headers[name])}"`)
      .replace("#if($foreach.hasNext),#end", i < names.length - 1 ? "," : ""),
  );
  return [...lines.slice(0, start), ...rendered, ...lines.slice(end + 1)]
    .join("\n")
    .replace("$context.httpMethod", "POST")
    .replace("$context.resourcePath", "/webhook")
    .replace("$util.base64Encode($input.body)", Buffer.from(body).toString("base64"))
    .replace("$context.requestId", "req-1");
}

describe("ASYNC_REQUEST_TEMPLATE", () => {
  it("renders a proxy-shaped event that is valid JSON", () => {
    const update = JSON.stringify({ update_id: 1, message: { text: 'say "hi" \\ 👋' } });
    const event = JSON.parse(
      renderWithSamples({ "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cr3t_-" }, update),
    );
    expect(event).toEqual({
      httpMethod: "POST",
      path: "/webhook",
      headers: { "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cr3t_-" },
      body: Buffer.from(update).toString("base64"),
      isBase64Encoded: true,
      requestContext: { requestId: "req-1" },
      deliveryMode: "async",
    });
    expect(isAsyncDelivery(event)).toBe(true);
    expect(Buffer.from(event.body, "base64").toString("utf8")).toBe(update);
  });

  it("passes every header, escaped, and base64-encodes the body", () => {
    expect(ASYNC_REQUEST_TEMPLATE).toContain("#foreach($name in $headers.keySet())");
    expect(ASYNC_REQUEST_TEMPLATE).toContain("$util.escapeJavaScript($headers.get($name))");
    expect(ASYNC_REQUEST_TEMPLATE).toContain('"body": "$util.base64Encode($input.body)"');
  });

  it("holds nothing Terraform would interpolate", () => {
    expect(ASYNC_REQUEST_TEMPLATE).not.toMatch(/\$\{|%\{/);
  });
});
