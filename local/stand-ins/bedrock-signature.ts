/**
 * The Bedrock stand-in's SigV4 check (local/stand-ins/bedrock.ts): a request's signature
 * recomputed with @smithy/signature-v4 from the credentials the stand-in knows, with AWS's own
 * refusals (missing or malformed Authorization, unknown key, missing session token, wrong
 * region or service scope, a stale x-amz-date, a body hash that does not match, a signature
 * that does not match with the canonical request quoted). Its hashes are its own (node:crypto),
 * not the client's, so a broken client hash cannot agree with itself.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { HeaderBag, HttpRequest } from "@smithy/types";

/** Credentials the stand-in accepts signatures of. */
export interface BedrockStandInCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** When set, a request must carry it as x-amz-security-token (temporary credentials). @default - none */
  readonly sessionToken?: string;
}

/** An error AWS answers with: its HTTP status, error name (`x-amzn-errortype`) and message. */
export type Refusal = { readonly status: number; readonly code: string; readonly message: string };

/** A {@link Refusal}. Pure. */
export const refusal = (status: number, code: string, message: string): Refusal => ({ status, code, message });

const SERVICE = "bedrock";
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60 * 1000;
const INVALID_TOKEN = refusal(403, "UnrecognizedClientException", "The security token included in the request is invalid.");

/** One header's value as a string ("" when absent; repeated ones joined as Node joins them). Pure. */
export const header = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : (value ?? "");
};

const bytesOf = (data: string | ArrayBuffer | ArrayBufferView) =>
  typeof data === "string" ? Buffer.from(data, "utf8") : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/** The stand-in's own SHA-256/HMAC (not the adapter's), so a broken client hash cannot agree with itself. */
class CheckHash {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

/** The SDK's signer, keeping the canonical request it built: AWS quotes it when a signature does not match. */
class CheckingSigner extends SignatureV4 {
  canonicalRequest = "";
  protected override createCanonicalRequest(request: HttpRequest, canonicalHeaders: HeaderBag, payloadHash: string): string {
    this.canonicalRequest = super.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    return this.canonicalRequest;
  }
}

/** Epoch ms of an x-amz-date (`20261124T213000Z`), or NaN. */
function amzDateMs(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Number.NaN;
}

/** The parts of a well-formed Authorization header. */
interface Authorization {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** The request's Authorization header taken apart, or AWS's refusal of it. */
function authorizationOf(req: IncomingMessage): Authorization | Refusal {
  const authorization = header(req.headers, "authorization");
  if (authorization === "") return refusal(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  const auth = AUTHORIZATION.exec(authorization);
  if (!auth) return refusal(403, "IncompleteSignatureException", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.");
  const [, accessKeyId, , region, service, signedList, signature] = auth;
  return { accessKeyId, region, service, signedHeaders: signedList.split(";"), signature };
}

/** Why AWS would refuse the request before computing its signature (key, token, scope, date, body hash), or undefined. */
function scopeRefusal(req: IncomingMessage, raw: Buffer, auth: Authorization, regions: readonly string[], credentials: BedrockStandInCredentials): Refusal | undefined {
  if (auth.accessKeyId !== credentials.accessKeyId) return INVALID_TOKEN;
  if (credentials.sessionToken !== undefined && header(req.headers, "x-amz-security-token") !== credentials.sessionToken) return INVALID_TOKEN;
  if (!regions.includes(auth.region)) return refusal(403, "InvalidSignatureException", `Credential should be scoped to a valid region, not '${auth.region}'.`);
  if (auth.service !== SERVICE) return refusal(403, "InvalidSignatureException", `Credential should be scoped to correct service: '${SERVICE}'.`);
  const signedAt = amzDateMs(header(req.headers, "x-amz-date"));
  if (!(Math.abs(Date.now() - signedAt) <= MAX_SKEW_MS)) return refusal(403, "InvalidSignatureException", "Signature expired or x-amz-date missing.");
  if (!auth.signedHeaders.includes("host")) return refusal(403, "InvalidSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const contentSha = header(req.headers, "x-amz-content-sha256");
  if (contentSha !== "" && contentSha !== createHash("sha256").update(raw).digest("hex")) {
    return refusal(400, "InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return undefined;
}

/** The signature recomputed over the headers the client signed, in the region it scoped to. */
async function recompute(req: IncomingMessage, raw: Buffer, auth: Authorization, credentials: BedrockStandInCredentials) {
  const [path, search = ""] = (req.url ?? "/").split("?");
  const signer = new CheckingSigner({ credentials, region: auth.region, service: SERVICE, sha256: CheckHash, applyChecksum: false });
  const headers = Object.fromEntries(auth.signedHeaders.map((name) => [name, header(req.headers, name)]));
  const query = Object.fromEntries(new URLSearchParams(search));
  const signingDate = new Date(amzDateMs(header(req.headers, "x-amz-date")));
  const expected = await signer.sign({ method: req.method ?? "POST", protocol: "http:", hostname: "127.0.0.1", path, query, headers, body: raw }, { signingDate });
  const signature = /Signature=([0-9a-f]{64})$/.exec(expected.headers.authorization ?? "")?.[1] ?? "";
  return { signature, canonicalRequest: signer.canonicalRequest };
}

/**
 * Why AWS would refuse this request's signature, or undefined when it is valid. `regions` are
 * those a signature may be scoped to (one Bedrock endpoint override serves every region).
 */
export async function signatureRefusal(
  req: IncomingMessage,
  raw: Buffer,
  regions: readonly string[],
  credentials: BedrockStandInCredentials,
): Promise<Refusal | undefined> {
  const auth = authorizationOf(req);
  if ("code" in auth) return auth;
  const refused = scopeRefusal(req, raw, auth, regions, credentials);
  if (refused) return refused;
  const computed = await recompute(req, raw, auth, credentials);
  if (timingSafeEqual(Buffer.from(computed.signature.padEnd(64, "0")), Buffer.from(auth.signature))) return undefined;
  return refusal(
    403,
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. " +
      `Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${computed.canonicalRequest}'\n`,
  );
}
