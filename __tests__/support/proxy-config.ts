/**
 * Runs ollama-proxy-config (constructs/ollama-server/proxy-config.sh, as the instance installs
 * it) for real with bash, with stand-in `curl` (the instance metadata service), `aws` (SSM
 * Parameter Store), `nginx` and `systemctl` commands first on PATH.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderProxyConfigScript } from "../../constructs/ollama-server/render";

/** The region the stand-in metadata service reports. */
export const STAND_IN_REGION = "eu-west-1";

/** What a run produced. */
export interface ProxyConfigRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The configuration written, or undefined when none was. */
  readonly config: string | undefined;
  /** The arguments `aws` was called with. */
  readonly awsArgs: string;
  /** The `nginx` and `systemctl` commands run, in order, e.g. ["nginx -t", "systemctl try-reload-or-restart nginx"]. */
  readonly serviceCalls: string[];
  /** Temporary files the run left beside the configuration (ollama.conf.XXXXXX). */
  readonly leftovers: string[];
}

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
    executable(
      "aws",
      `echo "$*" > "${join(dir, "aws-args")}"
if [ "$*" = "ssm get-parameter --region ${STAND_IN_REGION} --name \${PARAMETER_NAME} --with-decryption --query Parameter.Value --output text" ]; then
  printf '%s\\n' "\${PARAMETER_VALUE}"
else
  echo "aws stand-in: ParameterNotFound" >&2; exit 254
fi`,
    );
    const calls = join(dir, "service-calls");
    executable("systemctl", `echo "systemctl $*" >> "${calls}"`);
    executable("nginx", `echo "nginx $*" >> "${calls}"${options.nginxRejects ? "\necho 'nginx: configuration test failed' >&2; exit 1" : ""}`);
    const script = join(dir, "ollama-proxy-config");
    writeFileSync(script, renderProxyConfigScript({ apiKeyParameter: parameterName }));
    writeFileSync(join(dir, "template.conf"), template);
    const output = join(dir, "ollama.conf");
    if (options.existingConfig !== undefined) writeFileSync(output, options.existingConfig);
    const args = [...(options.reload ? ["--reload"] : []), join(dir, "template.conf"), output];
    const run = spawnSync("bash", [script, ...args], {
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH ?? ""}`,
        PARAMETER_NAME: options.ssmFails ? "/no/such/parameter" : parameterName,
        PARAMETER_VALUE: key,
      },
    });
    return {
      status: run.status,
      stdout: run.stdout,
      stderr: run.stderr,
      config: existsSync(output) ? readFileSync(output, "utf8") : undefined,
      awsArgs: existsSync(join(dir, "aws-args")) ? readFileSync(join(dir, "aws-args"), "utf8").trim() : "",
      serviceCalls: existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [],
      leftovers: readdirSync(dir).filter((name) => name.startsWith("ollama.conf.")),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
