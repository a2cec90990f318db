import { TerraformStack, Testing } from "cdktf";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { FFMPEG_RELEASE, WHISPER_RELEASE } from "../../config/defaults";
import { OllamaServer, type OllamaServerProps } from "../../constructs/ollama-server";
import { createDeps, synthWith } from "../support/infra";
import { onlyResource, resourcesOf, type TerraformJson } from "../support/terraform-json";
import { userDataOf } from "./ollama-server/user-data-of";

function synthServer(props: Partial<OllamaServerProps> = {}): TerraformJson {
  return synthWith((scope, deps) => {
    new OllamaServer(scope, "Ollama", { models: ["llama3.2:1b"], bucket: deps.bucket, apiKey: "${random_password.k.result}", ...props });
  });
}

/** The construct itself (for its outputs), in a fresh scope. */
function newServer(props: Partial<OllamaServerProps> = {}): OllamaServer {
  const stack = new TerraformStack(Testing.app(), "ollama");
  return new OllamaServer(stack, "Ollama", { models: ["llama3.2:1b"], bucket: createDeps(stack).bucket, apiKey: "${random_password.k.result}", ...props });
}

describe("OllamaServer", () => {
  it("runs a t3.large from the newest Amazon Linux 2023 AMI with IMDSv2 and an encrypted root volume", () => {
    const json = JSON.stringify(synthServer());
    expect(json).toHaveDataSourceWithProperties(DataAwsAmi, { most_recent: true, owners: ["amazon"] });
    expect(json).toHaveResourceWithProperties(Instance, {
      instance_type: "t3.large",
      metadata_options: { http_tokens: "required", http_endpoint: "enabled", http_put_response_hop_limit: 1 },
      root_block_device: { volume_size: 30, volume_type: "gp3", encrypted: true, delete_on_termination: true },
      user_data_replace_on_change: true,
    });
  });

  it("opens the proxy port to the world and has no SSH rule unless a CIDR is given", () => {
    const tf = synthServer();
    const ingress = Object.values(resourcesOf(tf, "aws_vpc_security_group_ingress_rule"));
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({ from_port: 11434, to_port: 11434, ip_protocol: "tcp", cidr_ipv4: "0.0.0.0/0" });
  });

  it("allows SSH only from the given CIDR", () => {
    const ingress = Object.values(resourcesOf(synthServer({ sshAllowedCidr: "203.0.113.7/32" }), "aws_vpc_security_group_ingress_rule"));
    expect(ingress.find((r) => r.from_port === 22)).toMatchObject({ to_port: 22, cidr_ipv4: "203.0.113.7/32" });
  });

  it("gets an elastic IP, associated with the instance apart so that the certificate can name it first", () => {
    const tf = synthServer();
    const instanceId = Object.keys(resourcesOf(tf, "aws_instance"))[0];
    const eipId = Object.keys(resourcesOf(tf, "aws_eip"))[0];
    expect(onlyResource(tf, "aws_eip")).toEqual(expect.objectContaining({ domain: "vpc" }));
    expect(onlyResource(tf, "aws_eip")).not.toHaveProperty("instance");
    expect(onlyResource(tf, "aws_eip_association")).toEqual({ allocation_id: `\${aws_eip.${eipId}.allocation_id}`, instance_id: `\${aws_instance.${instanceId}.id}` });
  });

  it("makes a self-signed certificate for the elastic IP, its key in a SecureString the instance reads; the URL is https", () => {
    const tf = synthServer();
    const eipId = Object.keys(resourcesOf(tf, "aws_eip"))[0];
    const keyId = Object.keys(resourcesOf(tf, "tls_private_key"))[0];
    expect(onlyResource(tf, "tls_private_key")).toEqual({ algorithm: "ECDSA", ecdsa_curve: "P256" });
    expect(onlyResource(tf, "tls_self_signed_cert")).toEqual(
      expect.objectContaining({
        private_key_pem: `\${tls_private_key.${keyId}.private_key_pem}`,
        ip_addresses: [`\${aws_eip.${eipId}.public_ip}`],
        allowed_uses: ["digital_signature", "key_encipherment", "server_auth"],
        validity_period_hours: 43800,
        early_renewal_hours: 720,
      }),
    );
    const parameters = Object.values(resourcesOf(tf, "aws_ssm_parameter"));
    expect(parameters).toContainEqual(expect.objectContaining({ name: "/ollama-server/tls-key", type: "SecureString", value: `\${tls_private_key.${keyId}.private_key_pem}` }));
    expect(parameters).toContainEqual(expect.objectContaining({ name: "/ollama-server/tls-certificate", type: "String" }));
    const userData = userDataOf(tf);
    expect(userData).not.toContain("tls_private_key");
    expect(userData).toMatch(/TLS_KEY_PARAMETER="\$\{aws_ssm_parameter\..+\.name\}"/);
    expect(userData).toContain("listen 11434 ssl;");
  });

  it("creates an instance profile that may only use the bucket's models/ prefix", () => {
    const tf = synthServer();
    const policy = JSON.parse(onlyResource(tf, "aws_iam_role_policy").policy as string);
    expect(policy.Statement.map((s: { Resource: string[] }) => s.Resource).flat()).toEqual([
      expect.stringMatching(/^\$\{aws_s3_bucket\..+\.arn\}$/),
      expect.stringMatching(/\/models\/\*$/),
      expect.stringMatching(/^\$\{aws_ssm_parameter\..+\.arn\}$/),
      expect.stringMatching(/^\$\{aws_ssm_parameter\..+\.arn\}$/),
      expect.stringMatching(/^\$\{aws_ssm_parameter\..+\.arn\}$/),
    ]);
    expect(policy.Statement[2]).toMatchObject({ Sid: "ReadProxySecrets", Action: ["ssm:GetParameter"] });
    expect(policy.Statement[0].Condition).toEqual({ StringLike: { "s3:prefix": ["models/*"] } });
    expect(Object.keys(resourcesOf(tf, "aws_iam_instance_profile"))).toHaveLength(1);
  });

  it("uses LabInstanceProfile and creates no role on AWS Academy", () => {
    const tf = synthServer({ labInstanceProfileName: "LabInstanceProfile" });
    expect(onlyResource(tf, "aws_instance").iam_instance_profile).toBe("LabInstanceProfile");
    expect(resourcesOf(tf, "aws_iam_role")).toEqual({});
  });

  it("keeps the key in an SSM SecureString parameter and hands the user data only the bucket and the parameter's name", () => {
    const tf = synthServer();
    const [parameterId, parameter] = Object.entries(resourcesOf(tf, "aws_ssm_parameter")).find(([, p]) => p.name === "/ollama-server/api-key")!;
    expect(parameter).toMatchObject({ type: "SecureString", value: "${random_password.k.result}" });
    const userData = userDataOf(tf);
    expect(userData).toMatch(/BUCKET="\$\{aws_s3_bucket\..+\.bucket\}"/);
    expect(userData).toContain(`PARAMETER="\${aws_ssm_parameter.${parameterId}.name}"`);
    expect(userData).not.toContain("${random_password");
  });

  it("hands EC2 its user data gzipped by Terraform (16 KB would not hold it), replacing the instance when it changes", () => {
    const tf = synthServer();
    const instance = onlyResource(tf, "aws_instance");
    expect(instance.user_data).toBeUndefined();
    expect(instance.user_data_base64).toMatch(/^\$\{base64gzip\(local\.[\w-]+\)\}$/);
    expect(instance.user_data_replace_on_change).toBe(true);
    expect(userDataOf(tf)).toMatch(/^#!\/bin\/bash\n/);
  });

  it("builds whisper.cpp's server for voice by default, from the pinned releases, and says where the function reaches it", () => {
    const userData = userDataOf(synthServer());
    expect(userData).toContain(`WHISPER_VERSION="${WHISPER_RELEASE.version}"`);
    expect(userData).toContain(`WHISPER_SHA256="${WHISPER_RELEASE.sha256}"`);
    expect(userData).toContain(`FFMPEG_SHA256="${FFMPEG_RELEASE.sha256}"`);
    expect(userData).toContain('MODEL="base"');
    expect(userData).toContain("systemctl enable --now whisper");
    expect(userData).toContain('"~^POST /v1/audio/transcriptions$" /v1/audio/transcriptions;');
    const server = newServer();
    expect(server.transcriptionUrl).toBe(`${server.url}/v1/audio/transcriptions`);
    expect(server.transcriptionModel).toBe("base");
  });

  it("opens no port for whisper.cpp: it listens on loopback behind the proxy", () => {
    const ingress = Object.values(resourcesOf(synthServer(), "aws_vpc_security_group_ingress_rule"));
    expect(ingress.map((rule) => rule.from_port)).toEqual([11434]);
    expect(userDataOf(synthServer())).toContain("--host 127.0.0.1 --port 8178 ");
  });

  it.each([
    ["whisperSha256 is empty", { whisperSha256: "" }],
    ["ffmpegSha256 is empty", { ffmpegSha256: "" }],
    ["another whisper.cpp release is named without its hash", { whisperVersion: "1.9.3" }],
    ["transcriptionModel is empty (voice off on purpose)", { transcriptionModel: "" }],
  ])("installs no transcription server when %s, and has no transcription URL", (_case, props) => {
    const userData = userDataOf(synthServer(props));
    expect(userData).not.toContain("/usr/local/bin/whisper-install");
    expect(userData).not.toContain("/v1/audio/transcriptions$");
    expect(userData).toContain("# No voice transcription on this instance");
    expect(newServer(props).transcriptionUrl).toBeUndefined();
    expect(newServer(props).transcriptionModel).toBeUndefined();
  });

  it("installs the release and model it is given", () => {
    const userData = userDataOf(synthServer({ transcriptionModel: "small", whisperVersion: "1.9.3", whisperSha256: "d".repeat(64), transcriptionPort: 9100 }));
    expect(userData).toContain('WHISPER_VERSION="1.9.3"');
    expect(userData).toContain(`WHISPER_SHA256="${"d".repeat(64)}"`);
    expect(userData).toContain("--port 9100 ");
    expect(userData).toContain("proxy_pass http://127.0.0.1:9100$ollama_route;");
    expect(userData).toContain("--model /var/lib/whisper/models/ggml-small.bin");
  });

  it("fails naming the setting for a transcription model whisper.cpp does not have, a bad hash or a taken port", () => {
    expect(() => synthServer({ transcriptionModel: "huge" })).toThrow(/^ollama server: invalid transcriptionModel: got "huge"; allowed: a whisper.cpp model: tiny, /);
    expect(() => synthServer({ whisperSha256: "xyz" })).toThrow(/^ollama server: invalid whisperSha256: got "xyz"/);
    expect(() => synthServer({ transcriptionPort: 11435 })).toThrow(/ollama server: invalid transcriptionPort: got 11435; allowed: a port other than proxyPort and internalPort/);
  });

  it("fails if SSH would be open to the world", () => {
    expect(() => synthServer({ sshAllowedCidr: "0.0.0.0/0" })).toThrow(/ollama server: invalid sshAllowedCidr: got "0.0.0.0\/0"/);
  });

  it("fails if the volume is too small for the models", () => {
    expect(() => synthServer({ volumeSizeGb: 8 })).toThrow(/invalid volumeSizeGb: got 8; allowed: a whole number from 16 to 1024/);
  });
});
