import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { StackOutputs } from "../../scripts/lib/stack-outputs";
import { main, ollamaProbeClient } from "../../scripts/manage-ollama";
import { captureIo } from "../support/cli-io";
import { startOllamaProxy, type RunningOllamaProxy } from "../support/ollama-proxy";
import { testCertificate } from "../support/tls";

const INSTANCE = "i-0123456789abcdef0";
const API_KEY = "Vt9Lp4Rz8Wn3Hb6Jd1Fc5Gs0YaKx7Qm2";

/** manage-ollama status against the real nginx proxy over TLS, as deployed. */
describe("manage-ollama status over TLS (real nginx)", () => {
  const ec2 = mockClient(EC2Client);
  let proxy: RunningOllamaProxy;

  beforeAll(async () => {
    proxy = await startOllamaProxy(API_KEY, (req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(req.url === "/api/tags" ? JSON.stringify({ models: [{ name: "llama3.2:1b" }] }) : '{"version":"0.12.0"}');
    });
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  beforeEach(() => {
    ec2.reset();
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name: "running" }, PublicIpAddress: "127.0.0.1", InstanceType: "t3.large" }] }],
    });
  });

  const status = (certificate: string | undefined) => {
    const io = captureIo();
    const outputs = new StackOutputs("ai-chatbot", "cdktf-outputs.json", {
      ollama_instance_id: INSTANCE,
      ollama_url: proxy.url,
      ollama_public_ip: "127.0.0.1",
      ollama_api_key: API_KEY,
      ...(certificate ? { ollama_certificate_pem: certificate } : {}),
    });
    const code = main(["status"], {
      io,
      env: { AWS_REGION: "us-east-1" },
      cwd: "/nonexistent",
      outputs: async () => outputs,
      ec2: () => new EC2Client({ region: "us-east-1" }),
      ollama: (url, key, ca) => ollamaProbeClient(url, key, ca, 2000),
      configuredModels: () => ["llama3.2:1b"],
      sleep: async () => undefined,
      now: () => 0,
      pollIntervalMs: 5000,
    });
    return { io, code };
  };

  it("trusts the stack's certificate (output ollama_certificate_pem) and reports the API", async () => {
    const { io, code } = status(proxy.tls.certificate);
    expect(await code).toBe(0);
    expect(io.out()).toContain("Ollama 0.12.0, answering through the proxy");
  });

  it("refuses a server whose certificate is not the stack's, and says so", async () => {
    const before = proxy.upstreamRequests.length;
    const { io, code } = status(testCertificate({ name: "impostor" }).certificate);
    expect(await code).toBe(1);
    expect(io.out() + io.err()).toMatch(/TLS certificate is not the stack's/);
    expect(proxy.upstreamRequests.length).toBe(before);
  });
});
