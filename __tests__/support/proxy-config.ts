/**
 * Runs ollama-proxy-config (constructs/ollama-server/proxy-config.sh, as the instance installs
 * it) for real with bash, with stand-in `curl` (the instance metadata service) and `aws` (SSM
 * Parameter Store) commands first on PATH.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
}

/**
 * Runs the script on `template` (nginx configuration with the key marker) with the parameter
 * `parameterName` holding `key` in the stand-in SSM.
 */
export function runProxyConfig(template: string, parameterName: string, key: string): ProxyConfigRun {
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
    const script = join(dir, "ollama-proxy-config");
    writeFileSync(script, renderProxyConfigScript({ apiKeyParameter: parameterName }));
    writeFileSync(join(dir, "template.conf"), template);
    const output = join(dir, "ollama.conf");
    const run = spawnSync("bash", [script, join(dir, "template.conf"), output], {
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH ?? ""}`, PARAMETER_NAME: parameterName, PARAMETER_VALUE: key },
    });
    return {
      status: run.status,
      stdout: run.stdout,
      stderr: run.stderr,
      config: existsSync(output) ? readFileSync(output, "utf8") : undefined,
      awsArgs: existsSync(join(dir, "aws-args")) ? readFileSync(join(dir, "aws-args"), "utf8").trim() : "",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
