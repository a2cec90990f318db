import { Construct } from "constructs";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { PrivateKey } from "@cdktf/provider-tls/lib/private-key";
import { SelfSignedCert } from "@cdktf/provider-tls/lib/self-signed-cert";

/** How long the proxy's certificate is valid: 5 years, in hours. */
export const CERTIFICATE_VALIDITY_HOURS = 5 * 365 * 24;
/** A plan this close to the certificate's end (30 days, in hours) replaces it with a new one. */
export const CERTIFICATE_EARLY_RENEWAL_HOURS = 30 * 24;

/** Props of {@link ProxyCertificate}. */
export interface ProxyCertificateProps {
  /** Prefix of the parameters (`/<name>/tls-key`, `/<name>/tls-certificate`) and the certificate's common name. */
  readonly name: string;
  /** The address the function calls (the elastic IP): the certificate's only subjectAltName. */
  readonly ipAddress: string;
}

/**
 * The Ollama proxy's TLS identity: an ECDSA P-256 key and a self-signed certificate for the
 * elastic IP, made by Terraform's tls provider. The key reaches the instance as the API key does
 * (an SSM SecureString, read when nginx starts); the certificate is public, and the function
 * pins it as the only CA it trusts for the proxy. Like every generated secret, the key is in the
 * Terraform state, never in the synthesized configuration or the user data.
 */
export class ProxyCertificate extends Construct {
  /** The certificate, PEM. */
  public readonly certificatePem: string;
  /** SecureString parameter holding the private key (PEM). */
  public readonly keyParameter: SsmParameter;
  /** Parameter holding the certificate (PEM). */
  public readonly certificateParameter: SsmParameter;

  constructor(scope: Construct, id: string, props: ProxyCertificateProps) {
    super(scope, id);
    const key = new PrivateKey(this, "Key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const certificate = new SelfSignedCert(this, "Certificate", {
      privateKeyPem: key.privateKeyPem,
      subject: [{ commonName: props.name }],
      ipAddresses: [props.ipAddress],
      validityPeriodHours: CERTIFICATE_VALIDITY_HOURS,
      earlyRenewalHours: CERTIFICATE_EARLY_RENEWAL_HOURS,
      allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
    });
    this.certificatePem = certificate.certPem;
    this.keyParameter = new SsmParameter(this, "KeyParameter", {
      name: `/${props.name}/tls-key`,
      description: "Private key of the Ollama proxy's TLS certificate (PEM); read by the instance when nginx starts",
      type: "SecureString",
      value: key.privateKeyPem,
    });
    this.certificateParameter = new SsmParameter(this, "CertificateParameter", {
      name: `/${props.name}/tls-certificate`,
      description: "The Ollama proxy's self-signed TLS certificate (PEM), which the bot function pins",
      type: "String",
      // Up to 8 KB (advanced tier); a P-256 certificate is well under the standard tier's 4 KB.
      value: certificate.certPem,
    });
  }
}
