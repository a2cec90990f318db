/**
 * API Gateway's mapping-template context for a real Velocity engine (velocityjs): `$input` and
 * `$util` as the REST API documentation defines them
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html),
 * so a template is rendered on a webhook request the way API Gateway renders it.
 */
import { render } from "velocityjs";

/** A webhook request as API Gateway receives it. */
export interface GatewayRequest {
  /** The raw body, byte for byte as sent. */
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** `$input.path`'s JSONPath subset the templates use: `$` and `$.a.b.c`. Pure. */
function jsonPath(root: unknown, path: string): unknown {
  if (path === "$") return root;
  if (!path.startsWith("$.")) throw new Error(`unsupported JSONPath ${path}`);
  return path
    .slice(2)
    .split(".")
    .reduce<unknown>((v, key) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined), root);
}

/**
 * Java's URLEncoder.encode(s, "UTF-8"), which `$util.urlEncode` is: letters, digits and `.-*_`
 * stay, a space becomes `+`, everything else is %XX of its UTF-8 bytes. Pure.
 */
export function javaUrlEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9.*_-]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Renders `template` on `request` with API Gateway's `$input`, `$util` and `$context`. */
export function renderMappingTemplate(template: string, request: GatewayRequest): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    parsed = undefined;
  }
  const headers = request.headers ?? {};
  const context = {
    input: {
      body: request.body,
      path: (p: string) => jsonPath(parsed, p),
      json: (p: string) => JSON.stringify(jsonPath(parsed, p)) ?? "",
      params: (name?: string) => (name === undefined ? { header: headers } : headers[name] ?? ""),
    },
    util: {
      urlEncode: (s: unknown) => javaUrlEncode(String(s)),
      escapeJavaScript: (s: unknown) => JSON.stringify(String(s)).slice(1, -1),
    },
    context: { requestId: "test-request" },
  };
  return render(template, context);
}
