/**
 * The request mapping template of async delivery mode (Velocity Template Language, evaluated
 * by API Gateway). The integration invokes the function with X-Amz-Invocation-Type: Event,
 * so the function gets whatever this template renders instead of a proxy event. It renders
 * an event of the proxy event's shape, so the handler, its secret-token check and its tests
 * are the same in both delivery modes.
 *
 * Why each part is there:
 * - `headers`: every request header, because the handler reads the secret token from
 *   X-Telegram-Bot-Api-Secret-Token and the content type like any proxy event. Values go
 *   through escapeJavaScript so quotes cannot break the JSON; escapeJavaScript also turns
 *   `'` into `\'`, which JSON does not allow, hence the replace back.
 * - `body`: the raw body base64-encoded (with `isBase64Encoded: true`), so no character of
 *   the update can break the JSON document and the handler decodes it as it would a binary
 *   proxy body.
 * - `requestContext.requestId`: the API Gateway request id, for log correlation.
 * - `httpMethod`, `path`: as in a proxy event, for logs and any routing on them.
 * - `deliveryMode: "async"`: tells the handler that its return value goes nowhere, so an update
 *   it must see again (still in progress elsewhere) is signalled by failing the invocation, which
 *   Lambda retries, instead of by a 503 that only a synchronous caller would read.
 *
 * Lines starting with `##` are VTL comments and do not reach the function.
 */
export const ASYNC_REQUEST_TEMPLATE = [
  "## Renders a Lambda proxy-shaped event; see constructs/webhook-api/async-request-template.ts.",
  "#set($headers = $input.params().header)",
  "{",
  '  "httpMethod": "$context.httpMethod",',
  '  "path": "$context.resourcePath",',
  '  "headers": {',
  "#foreach($name in $headers.keySet())",
  '    "$util.escapeJavaScript($name).replaceAll("\\\\\'", "\'")": "$util.escapeJavaScript($headers.get($name)).replaceAll("\\\\\'", "\'")"#if($foreach.hasNext),#end',
  "#end",
  "  },",
  '  "body": "$util.base64Encode($input.body)",',
  '  "isBase64Encoded": true,',
  '  "requestContext": { "requestId": "$context.requestId" },',
  '  "deliveryMode": "async"',
  "}",
].join("\n");

/** Content type the template applies to; with passthrough NEVER any other type gets 415. */
export const ASYNC_REQUEST_CONTENT_TYPE = "application/json";
