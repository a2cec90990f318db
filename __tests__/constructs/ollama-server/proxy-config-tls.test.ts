import { API_KEY_MARKER, renderNginxConfig } from "../../../constructs/ollama-server/render";
import { runProxyConfig } from "../../support/proxy-config";
import { testCertificate } from "../../support/tls";

const KEY = "Kx7Qm2Vt9Lp4";
const template = renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: API_KEY_MARKER });
const configWithKey = renderNginxConfig({ listen: "11434", upstreamPort: 11435, apiKey: KEY });

describe("ollama-proxy-config and the proxy's TLS certificate", () => {
  it("writes the certificate and the private key from SSM, the key readable by its owner only", () => {
    const pair = testCertificate();
    const run = runProxyConfig(template, "/ollama-server/api-key", KEY, { tls: pair });
    expect(run.status).toBe(0);
    expect(run.tls.certificate?.trim()).toBe(pair.certificate.trim());
    expect(run.tls.key?.trim()).toBe(pair.key.trim());
    expect(run.tls.keyMode).toBe(0o600);
    expect(run.leftovers).toEqual([]);
    expect(run.stdout).not.toContain("PRIVATE KEY");
    expect(run.stderr).not.toContain("PRIVATE KEY");
  });

  it.each([
    ["SSM has no TLS parameters", { tls: null }],
    ["the key parameter holds no PEM key", { tls: { certificate: testCertificate().certificate, key: "not a key" } }],
    ["the certificate parameter holds no PEM certificate", { tls: { certificate: "nope", key: testCertificate().key } }],
  ])("fails closed when %s: nothing written, so nginx does not start without TLS", (_case, options) => {
    const run = runProxyConfig(template, "/ollama-server/api-key", KEY, options);
    expect(run.status).not.toBe(0);
    expect(run.config).toBeUndefined();
    expect(run.tls).toEqual({ certificate: undefined, key: undefined, keyMode: undefined });
    expect(run.stderr).not.toContain("BEGIN");
  });

  it("--reload does nothing while the key and the certificate are unchanged", () => {
    const run = runProxyConfig(template, "/ollama-server/api-key", KEY, { reload: true, existingConfig: configWithKey });
    expect(run.status).toBe(0);
    expect(run.serviceCalls).toEqual([]);
  });

  it("--reload installs a renewed certificate and reloads nginx", () => {
    const renewed = testCertificate({ name: "renewed" });
    const run = runProxyConfig(template, "/ollama-server/api-key", KEY, {
      reload: true,
      existingConfig: configWithKey,
      existingTls: testCertificate(),
      tls: renewed,
    });
    expect(run.status).toBe(0);
    expect(run.tls.certificate?.trim()).toBe(renewed.certificate.trim());
    expect(run.serviceCalls).toEqual(["nginx -t", "systemctl try-reload-or-restart nginx"]);
    expect(run.stdout).toContain("nginx reloaded");
    expect(run.leftovers).toEqual([]);
  });

  it("--reload puts the served certificate back when nginx refuses the new one, so the next run tries again", () => {
    const served = testCertificate();
    const run = runProxyConfig(template, "/ollama-server/api-key", KEY, {
      reload: true,
      existingConfig: configWithKey,
      existingTls: served,
      tls: testCertificate({ name: "refused" }),
      nginxRejects: true,
    });
    expect(run.status).not.toBe(0);
    expect(run.tls.certificate?.trim()).toBe(served.certificate.trim());
    expect(run.tls.key?.trim()).toBe(served.key.trim());
    expect(run.config).toBe(configWithKey);
    expect(run.leftovers).toEqual([]);
  });
});
