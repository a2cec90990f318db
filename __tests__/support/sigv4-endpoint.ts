/**
 * A DynamoDB endpoint that only checks AWS Signature Version 4: dynalite accepts any
 * signature, so this is where the tests see that the bot signs its requests the way AWS
 * verifies them. The check is our own implementation of the documented algorithm
 * (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
 * independent of the SDK's signer, for DynamoDB's requests: POST to "/" with no query string
 * (paths and query strings are taken as they come, not normalised).
 *
 * It is stricter than AWS where a broken signer could otherwise pass: content-type and every
 * x-amz-* header present must be signed. Like AWS, it refuses a signature dated more than 15
 * minutes from its clock ("Signature expired", which makes the SDK correct its clock skew from
 * the `Date` header every answer carries and retry). A valid request gets an empty DynamoDB
 * answer (`{}`: no item, no attributes); any other gets 400 InvalidSignatureException.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readBody } from "../../local/read-body";

/** A key pair the endpoint accepts. */
export interface KnownKey {
  readonly secretAccessKey: string;
  /** The session token requests with this key must carry (temporary credentials). @default - none */
  readonly sessionToken?: string;
}

/** How to start the endpoint. */
export interface SigV4EndpointOptions {
  /** Region the signatures must be scoped to. */
  readonly region: string;
  /** Service the signatures must be scoped to. @default "dynamodb" */
  readonly service?: string;
  /** The keys it accepts, by access key id. */
  readonly keys: Readonly<Record<string, KnownKey>>;
  /** How far the endpoint's clock is ahead of this machine's, in ms. @default 0 */
  readonly clockOffsetMs?: number;
}

/** What the endpoint saw of one request. */
export interface CheckedRequest {
  readonly target: string;
  readonly accessKeyId: string;
  readonly amzDate: string;
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

/** A request as the check needs it. */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const MAX_SKEW_MS = 15 * 60 * 1000;

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(",") : (value ?? ""));

/** Epoch ms of an x-amz-date (`20261124T213000Z`), or NaN. Pure. */
export function parseAmzDate(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

/** The reason a request's signature is invalid, or "" when it is valid. Pure. */
export function signatureProblem(request: SignedRequest, options: SigV4EndpointOptions, nowMs: number): string {
  const match = AUTHORIZATION.exec(headerValue(request.headers.authorization));
  if (!match) return "no AWS4-HMAC-SHA256 Authorization header";
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = match as unknown as [string, string, string, string, string, string, string];
  const key = options.keys[accessKeyId];
  if (key === undefined) return `unknown access key ${accessKeyId}`;
  const expected = `${options.region}/${options.service ?? "dynamodb"}`;
  if (`${region}/${service}` !== expected) return `scope ${region}/${service}, expected ${expected}`;

  const amzDate = headerValue(request.headers["x-amz-date"]);
  const signedAt = parseAmzDate(amzDate);
  if (Number.isNaN(signedAt)) return `x-amz-date "${amzDate}" is not a date`;
  if (!amzDate.startsWith(day)) return `x-amz-date ${amzDate} is not on the scope's day ${day}`;
  if (Math.abs(signedAt - nowMs) > MAX_SKEW_MS) return `Signature expired: ${amzDate} is more than 15 min from ${new Date(nowMs).toISOString()}`;

  const signedHeaders = signedHeaderList.split(";");
  const mustSign = Object.keys(request.headers).filter((name) => name === "host" || name === "content-type" || name.startsWith("x-amz-"));
  const unsigned = mustSign.filter((name) => !signedHeaders.includes(name));
  if (unsigned.length > 0) return `not signed: ${unsigned.join(", ")}`;
  if (key.sessionToken !== undefined && request.headers["x-amz-security-token"] !== key.sessionToken) return "the security token is not the key's";

  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerValue(request.headers[name]).trim().replace(/\s+/g, " ")}\n`).join("");
  const [path = "/", query = ""] = request.path.split("?");
  const canonicalQuery = query.split("&").filter(Boolean).sort().join("&");
  const canonicalRequest = [request.method, path, canonicalQuery, canonicalHeaders, signedHeaderList, sha256Hex(request.body)].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, day), region), service), "aws4_request");
  const computed = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  return computed === signature ? "" : "signature does not match";
}

/** Starts an endpoint on 127.0.0.1; see the module comment. */
export async function startSigV4Endpoint(options: SigV4EndpointOptions): Promise<SigV4Endpoint> {
  const requests: CheckedRequest[] = [];
  const now = () => Date.now() + (options.clockOffsetMs ?? 0);
  const server: Server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const reason = signatureProblem({ method: req.method ?? "", path: req.url ?? "/", headers: req.headers, body }, options, now());
        const authorization = headerValue(req.headers.authorization);
        requests.push({
          target: headerValue(req.headers["x-amz-target"]),
          accessKeyId: /Credential=([^/]+)\//.exec(authorization)?.[1] ?? "",
          amzDate: headerValue(req.headers["x-amz-date"]),
          valid: reason === "",
          reason,
          signedHeaders: /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [],
        });
        const answer = reason === "" ? {} : { __type: "com.amazon.coral.service#InvalidSignatureException", message: reason };
        res.writeHead(reason === "" ? 200 : 400, { "content-type": "application/x-amz-json-1.0", date: new Date(now()).toUTCString() });
        res.end(JSON.stringify(answer));
      },
      () => res.destroy(),
    );
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
