import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { TRANSCRIPTION_PATH } from "../../../config/defaults";
import { EC2_USER_DATA_MAX_BYTES } from "../../../constructs/ollama-server";
import { NGINX_TRANSCRIPTION_MAX_BODY, renderNginxConfig, renderUserData, renderWhisperUnit, type UserDataValues } from "../../../constructs/ollama-server/render";
import { renderLikeTerraform } from "../../support/terraform-json";

const transcription = {
  model: "base",
  whisper: { version: "1.8.7", sha256: "a".repeat(64) },
  ffmpeg: { version: "8.1.3", sha256: "b".repeat(64) },
  port: 8178,
};

const values: UserDataValues = {
  bucket: "${aws_s3_bucket.b.bucket}",
  modelsPrefix: "models/",
  models: ["llama3.2:1b", "qwen2.5:1.5b-instruct-q4_K_M"],
  proxyPort: 11434,
  internalPort: 11435,
  apiKeyParameter: "/ollama-server/api-key",
  tlsKeyParameter: "/ollama-server/tls-key",
  tlsCertificateParameter: "/ollama-server/tls-certificate",
  ollama: { version: "0.34.2", sha256: "" },
  numParallel: 2,
  maxQueue: 2,
  transcription,
};

/** The unit's [Service] settings, by name (the last value of each). */
function serviceSettings(unit: string): Record<string, string> {
  const service = unit.split("[Service]")[1]!.split("[Install]")[0]!;
  const lines = service.split("\n").filter((line) => /^\w+=/.test(line));
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
}

describe("whisper.service: whisper.cpp's server as its own sandboxed user", () => {
  const unit = renderWhisperUnit({ port: 8178, model: "base" });
  const settings = serviceSettings(unit);

  it("serves the transcription path on loopback only, converting uploads with ffmpeg, detecting the language", () => {
    expect(settings.ExecStart).toBe(
      `/usr/local/bin/whisper-server --host 127.0.0.1 --port 8178 --inference-path ${TRANSCRIPTION_PATH} --convert --tmp-dir /tmp --language auto --model /var/lib/whisper/models/ggml-base.bin`,
    );
    expect(settings).toMatchObject({ IPAddressDeny: "any", IPAddressAllow: "localhost", RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX" });
  });

  it("runs as the unprivileged whisper user, with no capabilities, in a read-only system", () => {
    expect(settings).toMatchObject({
      User: "whisper",
      Group: "whisper",
      NoNewPrivileges: "yes",
      CapabilityBoundingSet: "",
      AmbientCapabilities: "",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      ProtectKernelTunables: "yes",
      ProtectKernelModules: "yes",
      ProtectControlGroups: "yes",
      RestrictNamespaces: "yes",
      RestrictSUIDSGID: "yes",
      MemoryDenyWriteExecute: "yes",
      Restart: "always",
    });
    expect(settings.ReadWritePaths).toBeUndefined();
  });

  it("refuses a model or port that could break the unit", () => {
    expect(() => renderWhisperUnit({ port: 8178, model: "base --public /" })).toThrow(/invalid transcriptionModel/);
    expect(() => renderWhisperUnit({ port: 0, model: "base" })).toThrow(/invalid transcriptionPort: got 0/);
  });
});

describe("user data with voice transcription", () => {
  const script = renderLikeTerraform(renderUserData(values));

  it("installs whisper-install and the unit, creates a no-login user, and starts the server only when the install succeeded", () => {
    expect(script).toContain("cat > /usr/local/bin/whisper-install <<'WHISPERINSTALL'");
    expect(script).toContain('WHISPER_SHA256="' + "a".repeat(64) + '"');
    expect(script).toContain("useradd -r -s /sbin/nologin -U -M -d /var/lib/whisper whisper");
    expect(script).toContain("cat > /etc/systemd/system/whisper.service <<'UNIT'");
    expect(script).toMatch(/if \/usr\/local\/bin\/whisper-install; then\n {2}systemctl daemon-reload\n {2}systemctl enable --now whisper\nelse/);
    expect(script).toContain("dnf install -y -q gcc gcc-c++ make cmake xz tar gzip");
  });

  it("sets up voice after the chat models are pulled and synced, so chat is up first", () => {
    expect(script.indexOf("/usr/local/bin/ollama-models-sync || echo")).toBeLessThan(script.indexOf("--- voice transcription"));
    expect(script.indexOf("--- voice transcription")).toBeLessThan(script.indexOf('echo "--- ready"'));
  });

  it("keeps the model under models/whisper/ of the bucket (a Terraform reference)", () => {
    expect(script).toContain('MODEL_S3="s3://SAMPLE/models/whisper/ggml-${MODEL}.bin"');
  });

  it("passes bash -n once Terraform has rendered it, and fits EC2's 16 KB once gzipped", () => {
    const file = join(mkdtempSync(join(tmpdir(), "user-data-")), "user-data.sh");
    writeFileSync(file, script);
    expect(() => execFileSync("bash", ["-n", file], { stdio: "pipe" })).not.toThrow();
    // The real bucket name is a little longer than the sample: keep a margin.
    expect(gzipSync(script).length).toBeLessThan(EC2_USER_DATA_MAX_BYTES - 2048);
  });

  it("without it, has no whisper.cpp, no ffmpeg and no transcription route", () => {
    const off = renderLikeTerraform(renderUserData({ ...values, transcription: undefined }));
    expect(off).not.toContain("/usr/local/bin/whisper-install");
    expect(off).not.toContain("/etc/systemd/system/whisper.service");
    expect(off).not.toContain(`"~^POST ${TRANSCRIPTION_PATH}$"`);
    expect(off).toContain("# No voice transcription on this instance");
  });
});

describe("nginx's transcription route", () => {
  const on = renderNginxConfig({ listen: "11434", upstreamPort: 11435, transcriptionPort: 8178, apiKey: "abc" });

  it("is one POST route to whisper.cpp's loopback port, with a body limit for 20 MB recordings", () => {
    expect(on).toContain(`"~^POST ${TRANSCRIPTION_PATH}$" ${TRANSCRIPTION_PATH};`);
    const location = on.slice(on.indexOf(`location = ${TRANSCRIPTION_PATH} {`));
    expect(location).toContain("proxy_pass http://127.0.0.1:8178$ollama_route;");
    expect(location).toContain(`client_max_body_size ${NGINX_TRANSCRIPTION_MAX_BODY};`);
    expect(Number.parseInt(NGINX_TRANSCRIPTION_MAX_BODY, 10)).toBeGreaterThanOrEqual(20);
    expect(location.slice(0, location.indexOf("}"))).toContain('proxy_set_header X-API-Key "";');
  });

  it("is absent without a transcription port", () => {
    const off = renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: "abc" });
    expect(off).not.toContain(`"~^POST ${TRANSCRIPTION_PATH}$"`);
    expect(() => renderNginxConfig({ listen: "11434", upstreamPort: 11435, transcriptionPort: 70000, apiKey: "abc" })).toThrow(/invalid transcriptionPort: got 70000/);
  });
});
