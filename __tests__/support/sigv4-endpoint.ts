/**
 * A DynamoDB endpoint that only checks AWS Signature Version 4: dynalite accepts any
 * signature, so this is where the tests see that the bot signs its requests the way AWS
 * verifies them. The check is our own implementation of the documented algorithm
 * (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
 * independent of the SDK's signer. A request with a valid signature gets an empty DynamoDB
 * answer (`{}`: no item, no attributes); any other gets 400 InvalidSignatureException.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The secret keys the endpoint knows, by access key id. */
export type SecretKeys = Readonly<Record<string, string>>;

/** What the endpoint saw of one signed request. */
export interface CheckedRequest {
  readonly target: string;
  readonly valid: boolean;
  /** Why the signature was refused; empty when valid. */
  readonly reason: string;
  readonly signedHeaders: readonly string[];
}

/** A running endpoint. */
export interface SigV4Endpoint {
  readonly url: string;
  readonly requests: readonly CheckedRequest[];
  stop(): Promise<void>;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** The reason a request's signature is invalid, or "" when it is valid. Pure. */
export function signatureProblem(
  request: { method: string; path: string; headers: Readonly<Record<string, string | string[] | undefined>>; body: Buffer },
  keys: SecretKeys,
  expected: { region: string; service: string },
): string {
  const match = AUTHORIZATION.exec(String(request.headers.authorization ?? ""));
  if (!match) return "no AWS4-HMAC-SHA256 Authorization header";
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = match as unknown as string[];
  const secret = keys[accessKeyId!];
  if (secret === undefined) return `unknown access key ${accessKeyId}`;
  if (region !== expected.region || service !== expected.service) return `scope ${region}/${service}, expected ${expected.region}/${expected.service}`;
  const amzDate = String(request.headers["x-amz-date"] ?? "");
  if (!amzDate.startsWith(day!)) return `x-amz-date ${amzDate} is not on the scope's day ${day}`;
  const signedHeaders = signedHeaderList!.split(";");
  for (const required of ["host", "x-amz-date"]) if (!signedHeaders.includes(required)) return `${required} is not signed`;
  if (request.headers["x-amz-security-token"] !== undefined && !signedHeaders.includes("x-amz-security-token")) {
    return "x-amz-security-token is not signed";
  }
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = request.headers[name];
      return `${name}:${(Array.isArray(value) ? value.join(",") : (value ?? "")).trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const [path, query = ""] = request.path.split("?");
  const canonicalQuery = query
    .split("&")
    .filter(Boolean)
    .sort()
    .join("&");
  const canonicalRequest = [request.method, path, canonicalQuery, canonicalHeaders, signedHeaderList, sha256Hex(request.body)].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, day!), region!), service!), "aws4_request");
  const computed = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  return computed === signature ? "" : "signature does not match";
}

const readBody = async (req: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

/** Starts an endpoint on 127.0.0.1 that accepts requests signed for `region`/dynamodb with one of `keys`. */
export async function startSigV4Endpoint(keys: SecretKeys, region: string): Promise<SigV4Endpoint> {
  const requests: CheckedRequest[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const reason = signatureProblem({ method: req.method ?? "", path: req.url ?? "/", headers: req.headers, body }, keys, { region, service: "dynamodb" });
      const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(req.headers.authorization ?? ""))?.[1]?.split(";") ?? [];
      requests.push({ target: String(req.headers["x-amz-target"] ?? ""), valid: reason === "", reason, signedHeaders });
      const answer = reason === "" ? {} : { __type: "com.amazon.coral.service#InvalidSignatureException", message: reason };
      res.writeHead(reason === "" ? 200 : 400, { "content-type": "application/x-amz-json-1.0" });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
