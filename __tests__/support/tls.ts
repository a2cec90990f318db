/**
 * Self-signed certificates for the TLS tests, made by openssl the way Terraform's
 * tls_self_signed_cert makes the proxy's: an ECDSA P-256 key, a leaf certificate (CA:FALSE) for
 * server authentication whose subjectAltName holds the server's IP address.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its private key, both PEM. */
export interface TlsPair {
  readonly certificate: string;
  readonly key: string;
}

const made = new Map<string, TlsPair>();

/**
 * A certificate for `ip` (and `dns`, when given), named `name` so that two pairs for the same
 * address differ; cached by its arguments for the test process.
 */
export function testCertificate(options: { readonly ip?: string; readonly dns?: string; readonly name?: string } = {}): TlsPair {
  const ip = options.ip ?? "127.0.0.1";
  const cacheKey = `${ip}|${options.dns ?? ""}|${options.name ?? "ollama-server"}`;
  const cached = made.get(cacheKey);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "tls-test-"));
  try {
    const key = join(dir, "key.pem");
    const certificate = join(dir, "cert.pem");
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], { stdio: "pipe" });
    const san = [`IP:${ip}`, ...(options.dns ? [`DNS:${options.dns}`] : [])].join(",");
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-new", "-key", key, "-out", certificate, "-days", "30",
        "-subj", `/CN=${options.name ?? "ollama-server"}`,
        "-addext", `subjectAltName=${san}`,
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
        "-addext", "extendedKeyUsage=serverAuth",
      ],
      { stdio: "pipe" },
    );
    const pair = { certificate: readFileSync(certificate, "utf8"), key: readFileSync(key, "utf8") };
    made.set(cacheKey, pair);
    return pair;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
