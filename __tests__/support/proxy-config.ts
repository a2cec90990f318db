/**
 * Runs ollama-proxy-config (constructs/ollama-server/proxy-config.sh, as the instance installs
 * it) for real with bash, with stand-in `curl` (the instance metadata service), `aws` (SSM
 * Parameter Store), `nginx` and `systemctl` commands first on PATH.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderProxyConfigScript } from "../../constructs/ollama-server/render";
import { testCertificate, type TlsPair } from "./tls";

/** The region the stand-in metadata service reports. */
export const STAND_IN_REGION = "eu-west-1";

/** What a run produced. */
export interface ProxyConfigRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The configuration written, or undefined when none was. */
  readonly config: string | undefined;
  /** The arguments of the first `aws` call (the API key's). */
  readonly awsArgs: string;
  /** The `nginx` and `systemctl` commands run, in order, e.g. ["nginx -t", "systemctl try-reload-or-restart nginx"]. */
  readonly serviceCalls: string[];
  /** Temporary files the run left beside the configuration (ollama.conf.XXXXXX) or in the TLS folder. */
  readonly leftovers: string[];
  /** The TLS files in the TLS folder after the run (undefined: none), and the key file's mode. */
  readonly tls: { readonly certificate?: string; readonly key?: string; readonly keyMode?: number };
}

/** The parameter names the stand-in SSM serves the TLS pair under. */
export const TLS_KEY_PARAMETER = "/ollama-server/tls-key";
export const TLS_CERTIFICATE_PARAMETER = "/ollama-server/tls-certificate";

/** How to run the script. */
export interface ProxyConfigOptions {
  /** Run as the refresh timer does (`--reload`). @default false */
  readonly reload?: boolean;
  /** The configuration already in place before the run. @default - none */
  readonly existingConfig?: string;
  /** SSM answers ParameterNotFound. @default false */
  readonly ssmFails?: boolean;
  /** The stand-in `nginx -t` reports an invalid configuration. @default false */
  readonly nginxRejects?: boolean;
  /** The TLS pair SSM holds; null holds none (ParameterNotFound). @default testCertificate() */
  readonly tls?: TlsPair | null;
  /** The TLS files in place before the run. @default - the same pair as SSM when existingConfig is given, else none */
  readonly existingTls?: TlsPair;
  /** The folder the script writes the TLS files to (kept after the run). @default - a folder removed after the run */
  readonly tlsDir?: string;
}

/**
 * Runs the script on `template` (nginx configuration with the key marker) with the parameter
 * `parameterName` holding `key` in the stand-in SSM.
 */
export function runProxyConfig(template: string, parameterName: string, key: string, options: ProxyConfigOptions = {}): ProxyConfigRun {
  const dir = mkdtempSync(join(tmpdir(), "proxy-config-"));
  try {
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const executable = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    executable(
      "curl",
      `case "$*" in
  *"-X PUT"*latest/api/token*) echo "imds-token" ;;
  *"X-aws-ec2-metadata-token: imds-token"*placement/region*) echo "${STAND_IN_REGION}" ;;
  *) echo "curl stand-in: unexpected call: $*" >&2; exit 22 ;;
esac`,
    );
    // SSM Parameter Store: one file per parameter under ssm/, named by the parameter's path.
    const ssm = join(dir, "ssm");
    const putParameter = (name: string, value: string) => {
      mkdirSync(join(ssm, name, ".."), { recursive: true });
      writeFileSync(join(ssm, name), `${value}`);
    };
    if (!options.ssmFails) putParameter(parameterName, key);
    const tls = options.tls === undefined ? testCertificate() : options.tls;
    if (tls) {
      putParameter(TLS_KEY_PARAMETER, tls.key.trimEnd());
      putParameter(TLS_CERTIFICATE_PARAMETER, tls.certificate.trimEnd());
    }
    executable(
      "aws",
      `echo "$*" >> "${join(dir, "aws-args")}"
name="$6"
decrypt=""
if [ "$7" = "--with-decryption" ]; then decrypt="--with-decryption "; fi
if [ "$*" = "ssm get-parameter --region ${STAND_IN_REGION} --name \${name} \${decrypt}--query Parameter.Value --output text" ] && [ -f "${ssm}\${name}" ]; then
  cat "${ssm}\${name}"; echo
else
  echo "aws stand-in: ParameterNotFound" >&2; exit 254
fi`,
    );
    const calls = join(dir, "service-calls");
    executable("systemctl", `echo "systemctl $*" >> "${calls}"`);
    executable("nginx", `echo "nginx $*" >> "${calls}"${options.nginxRejects ? "\necho 'nginx: configuration test failed' >&2; exit 1" : ""}`);
    const script = join(dir, "ollama-proxy-config");
    writeFileSync(
      script,
      renderProxyConfigScript({ apiKeyParameter: parameterName, tlsKeyParameter: TLS_KEY_PARAMETER, tlsCertificateParameter: TLS_CERTIFICATE_PARAMETER }),
    );
    const tlsDir = options.tlsDir ?? join(dir, "tls");
    const existingTls = options.existingTls ?? (options.existingConfig !== undefined && tls ? tls : undefined);
    if (existingTls) {
      mkdirSync(tlsDir, { recursive: true });
      writeFileSync(join(tlsDir, "ollama.key"), `${existingTls.key.trimEnd()}\n`);
      writeFileSync(join(tlsDir, "ollama.crt"), `${existingTls.certificate.trimEnd()}\n`);
    }
    writeFileSync(join(dir, "template.conf"), template);
    const output = join(dir, "ollama.conf");
    if (options.existingConfig !== undefined) writeFileSync(output, options.existingConfig);
    const args = [...(options.reload ? ["--reload"] : []), join(dir, "template.conf"), output, tlsDir];
    const run = spawnSync("bash", [script, ...args], {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
    return {
      status: run.status,
      stdout: run.stdout,
      stderr: run.stderr,
      config: existsSync(output) ? readFileSync(output, "utf8") : undefined,
      awsArgs: existsSync(join(dir, "aws-args")) ? readFileSync(join(dir, "aws-args"), "utf8").trim().split("\n")[0]! : "",
      serviceCalls: existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [],
      leftovers: [
        ...readdirSync(dir).filter((name) => name.startsWith("ollama.conf.")),
        ...(existsSync(tlsDir) ? readdirSync(tlsDir).filter((name) => name !== "ollama.key" && name !== "ollama.crt") : []),
      ],
      tls: {
        certificate: existsSync(join(tlsDir, "ollama.crt")) ? readFileSync(join(tlsDir, "ollama.crt"), "utf8") : undefined,
        key: existsSync(join(tlsDir, "ollama.key")) ? readFileSync(join(tlsDir, "ollama.key"), "utf8") : undefined,
        keyMode: existsSync(join(tlsDir, "ollama.key")) ? statSync(join(tlsDir, "ollama.key")).mode & 0o777 : undefined,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
