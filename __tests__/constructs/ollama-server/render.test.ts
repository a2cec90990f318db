import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  API_KEY_REFRESH_MINUTES,
  API_KEY_MARKER,
  escapeForTerraform,
  fillPlaceholders,
  renderNginxConfig,
  renderProxyConfigScript,
  renderUserData,
} from "../../../constructs/ollama-server/render";
import { runProxyConfig, STAND_IN_REGION } from "../../support/proxy-config";
import { renderLikeTerraform } from "../../support/terraform-json";

function bashSyntaxCheck(script: string): void {
  const file = join(mkdtempSync(join(tmpdir(), "user-data-")), "user-data.sh");
  writeFileSync(file, script);
  execFileSync("bash", ["-n", file], { stdio: "pipe" });
}

const values = {
  bucket: "chatbot-conversations-123456789012",
  modelsPrefix: "models/",
  models: ["llama3.2:1b", "qwen2.5:1.5b-instruct-q4_K_M"],
  proxyPort: 11434,
  internalPort: 11435,
  apiKeyParameter: "/ollama-server/api-key",
  tlsKeyParameter: "/ollama-server/tls-key",
  tlsCertificateParameter: "/ollama-server/tls-certificate",
  ollama: { version: "0.18.2", sha256: "a".repeat(64) },
  numParallel: 3,
  maxQueue: 7,
};

describe("ollama-server templates", () => {
  it("escapes ${ and %{ so Terraform reads them literally", () => {
    expect(escapeForTerraform('echo "${HOME}" %{x}')).toBe('echo "$${HOME}" %%{x}');
  });

  it("fails on a placeholder without a value", () => {
    expect(() => fillPlaceholders("{{nope}}", {})).toThrow("template placeholder {{nope}} has no value");
  });

  it("renders user data that passes bash -n once Terraform has rendered it", () => {
    const rendered = renderUserData(values);
    expect(rendered).not.toMatch(/\{\{\w+\}\}/);
    expect(() => bashSyntaxCheck(renderLikeTerraform(rendered))).not.toThrow();
  });

  it("leaves no unescaped ${ in the user data besides the values", () => {
    const rendered = renderUserData({ ...values, bucket: "${aws_s3_bucket.b.bucket}", apiKeyParameter: "${aws_ssm_parameter.k.name}" });
    const references = new Set(rendered.match(/(?<!\$)\$\{[^}]*\}/g));
    expect(references).toEqual(new Set(["${aws_s3_bucket.b.bucket}", "${aws_ssm_parameter.k.name}"]));
  });

  it("sets Ollama's parallelism and queue from the values", () => {
    const script = renderLikeTerraform(renderUserData(values));
    expect(script).toContain('Environment="OLLAMA_NUM_PARALLEL=3"');
    expect(script).toContain('Environment="OLLAMA_MAX_QUEUE=7"');
    expect(() => renderUserData({ ...values, numParallel: 0 })).toThrow(/invalid numParallel/);
    expect(() => renderUserData({ ...values, maxQueue: 1.5 })).toThrow(/invalid maxQueue/);
  });

  it("holds no key: nginx's configuration keeps a marker that the proxy-config script fills from SSM at every start", () => {
    const script = renderLikeTerraform(renderUserData(values));
    expect(script).toContain(`"~^${API_KEY_MARKER}$" 1;`);
    expect(script).toContain('PARAMETER="/ollama-server/api-key"');
    expect(script).toContain("ExecStartPre=/usr/local/bin/ollama-proxy-config");
    // The configuration is written before nginx checks it.
    expect(script.indexOf("ExecStartPre=/usr/local/bin/ollama-proxy-config")).toBeLessThan(script.indexOf("ExecStartPre=/usr/sbin/nginx -t"));
  });

  it("proxy-config writes the key from the SSM parameter of the instance's region into the configuration", () => {
    const template = renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: API_KEY_MARKER });
    const run = runProxyConfig(template, "/ollama-server/api-key", "Kx7Qm2Vt9Lp4");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.awsArgs).toBe(`ssm get-parameter --region ${STAND_IN_REGION} --name /ollama-server/api-key --with-decryption --query Parameter.Value --output text`);
    expect(run.config).toBe(renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: "Kx7Qm2Vt9Lp4" }));
    expect(run.stdout).not.toContain("Kx7Qm2Vt9Lp4");
  });

  it.each([
    ["an empty parameter", ""],
    ["a key that would break the configuration", 'a" 1; default'],
  ])("proxy-config refuses %s and writes nothing (nginx then does not start: fail closed)", (_case, key) => {
    const template = renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: API_KEY_MARKER });
    const run = runProxyConfig(template, "/ollama-server/api-key", key);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("/ollama-server/api-key is empty or holds characters other than");
    expect(run.config).toBeUndefined();
  });

  it("proxy-config as nginx's ExecStartPre never reloads nginx itself", () => {
    const template = renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: API_KEY_MARKER });
    const run = runProxyConfig(template, "/ollama-server/api-key", "Kx7Qm2Vt9Lp4", { existingConfig: "old" });
    expect(run.status).toBe(0);
    expect(run.serviceCalls).toEqual([]);
  });

  describe("proxy-config --reload (the key refresh timer)", () => {
    const template = renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: API_KEY_MARKER });
    const configWith = (key: string) => renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: key });

    it("does nothing when the key is unchanged", () => {
      const run = runProxyConfig(template, "/ollama-server/api-key", "Kx7Qm2Vt9Lp4", { reload: true, existingConfig: configWith("Kx7Qm2Vt9Lp4") });
      expect(run.status).toBe(0);
      expect(run.serviceCalls).toEqual([]);
      expect(run.config).toBe(configWith("Kx7Qm2Vt9Lp4"));
      expect(run.stdout).toBe("");
      expect(run.leftovers).toEqual([]);
    });

    it("writes a rotated key, checks the configuration and reloads nginx", () => {
      const run = runProxyConfig(template, "/ollama-server/api-key", "N3wKey-rotated", { reload: true, existingConfig: configWith("Kx7Qm2Vt9Lp4") });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(run.config).toBe(configWith("N3wKey-rotated"));
      expect(run.serviceCalls).toEqual(["nginx -t", "systemctl try-reload-or-restart nginx"]);
      expect(run.leftovers).toEqual([]);
      expect(run.stdout).toContain("changed; nginx reloaded");
      expect(run.stdout).not.toContain("N3wKey-rotated");
    });

    it("puts the configuration in service back when nginx refuses the new one, so the next run tries again", () => {
      const run = runProxyConfig(template, "/ollama-server/api-key", "N3wKey-rotated", {
        reload: true,
        existingConfig: configWith("Kx7Qm2Vt9Lp4"),
        nginxRejects: true,
      });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain("nginx refused the configuration");
      expect(run.config).toBe(configWith("Kx7Qm2Vt9Lp4"));
      expect(run.serviceCalls).toEqual(["nginx -t"]);
      expect(run.leftovers).toEqual([]);
    });

    it("writes and reloads when no configuration exists yet", () => {
      const run = runProxyConfig(template, "/ollama-server/api-key", "Kx7Qm2Vt9Lp4", { reload: true });
      expect(run.status).toBe(0);
      expect(run.config).toBe(configWith("Kx7Qm2Vt9Lp4"));
      expect(run.serviceCalls).toEqual(["nginx -t", "systemctl try-reload-or-restart nginx"]);
    });

    it.each([
      ["SSM cannot be read", { ssmFails: true }, "Kx7Qm2Vt9Lp4"],
      ["the new value is not a usable key", {}, "bad key!"],
    ])("keeps the key in service when %s (no reload, nothing written)", (_case, extra, key) => {
      const run = runProxyConfig(template, "/ollama-server/api-key", key, { reload: true, existingConfig: configWith("Kx7Qm2Vt9Lp4"), ...extra });
      expect(run.status).not.toBe(0);
      expect(run.config).toBe(configWith("Kx7Qm2Vt9Lp4"));
      expect(run.serviceCalls).toEqual([]);
      expect(run.leftovers).toEqual([]);
    });
  });

  it(`checks the key every ${API_KEY_REFRESH_MINUTES} minutes with a systemd timer`, () => {
    const script = renderLikeTerraform(renderUserData(values));
    expect(script).toContain("ExecStart=/usr/local/bin/ollama-proxy-config --reload");
    expect(script).toContain(`OnUnitActiveSec=${API_KEY_REFRESH_MINUTES}min`);
    expect(script).toContain("systemctl enable --now ollama-api-key-refresh.timer");
  });

  it("fails if the parameter name could break the script", () => {
    const names = { apiKeyParameter: "/a", tlsKeyParameter: "/b", tlsCertificateParameter: "/c" };
    expect(() => renderProxyConfigScript({ ...names, apiKeyParameter: '/x"; rm -rf /' })).toThrow(/invalid apiKeyParameter/);
    expect(() => renderProxyConfigScript({ ...names, tlsKeyParameter: "/x $(reboot)" })).toThrow(/invalid tlsKeyParameter/);
    expect(() => renderProxyConfigScript({ ...names, tlsCertificateParameter: "" })).toThrow(/invalid tlsCertificateParameter/);
  });

  it("binds Ollama to loopback, pulls every model and syncs models to S3 on shutdown", () => {
    const script = renderLikeTerraform(renderUserData(values));
    expect(script).toContain('MODELS=("llama3.2:1b" "qwen2.5:1.5b-instruct-q4_K_M")');
    expect(script).toContain('Environment="OLLAMA_HOST=127.0.0.1:${INTERNAL_PORT}"');
    expect(script).toContain('aws s3 sync --only-show-errors --exclude "whisper/*" "s3://${BUCKET}/${MODELS_PREFIX}" "${MODELS_DIR}/"');
    expect(script).toContain("ExecStop=/usr/local/bin/ollama-models-sync");
    expect(script.indexOf("restore models")).toBeLessThan(script.indexOf('ollama pull "${model}"'));
  });

  it("keeps whisper.cpp's model in S3 out of Ollama's sync both ways, so its --delete never removes it", () => {
    const script = renderLikeTerraform(renderUserData(values));
    const syncs = script.split("\n").filter((line) => line.startsWith("aws s3 sync"));
    expect(syncs).toHaveLength(2);
    for (const sync of syncs) expect(sync).toContain('--exclude "whisper/*"');
    expect(syncs.find((sync) => sync.includes("--delete"))).toBeDefined();
    expect(() => renderUserData({ ...values, whisperModelsPrefix: "whisper/" })).toThrow(/invalid whisperModelsPrefix: got "whisper\/"; allowed: a prefix under "models\/"/);
  });

  it("configures nginx to check the key and not to buffer", () => {
    const conf = renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: "abc" });
    expect(conf).toContain("map $http_x_api_key $ollama_api_key_ok");
    expect(conf).toContain('"~^abc$" 1;');
    expect(conf).toContain("proxy_pass http://127.0.0.1:11435$ollama_route;");
    expect(conf).toContain("server_tokens off;");
    expect(conf).toMatch(/client_max_body_size \d+m;/);
    expect(conf).toContain("proxy_buffering off;");
  });

  it("fails if a model name could break the script", () => {
    expect(() => renderUserData({ ...values, models: ['x"; rm -rf /'] })).toThrow(/invalid models/);
  });

  it("fails if the key could break the nginx configuration", () => {
    expect(() => renderNginxConfig({ listen: "1", upstreamPort: 2, apiKey: 'a" 1; default' })).toThrow(/invalid apiKey/);
  });
});
