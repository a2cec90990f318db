import { DescribeInstancesCommand, EC2Client, StartInstancesCommand, StopInstancesCommand } from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { OllamaClient } from "../../handler/model/ollama";
import { compareModels } from "../../scripts/lib/ollama-status";
import { formatSpinnerLine } from "../../scripts/lib/progress";
import { hasOllamaInstance, StackOutputs } from "../../scripts/lib/stack-outputs";
import { main, NO_OLLAMA_INSTANCE, shellQuote, sshArgs } from "../../scripts/manage-ollama";
import { captureIo } from "../support/cli-io";
import { closedPortUrl } from "../support/net";
import { OllamaStandIn } from "../../local/stand-ins/ollama";
import { TEST_OLLAMA_API_KEY } from "../support/updates";

const INSTANCE = "i-0123456789abcdef0";
const CONFIGURED = ["llama3.2:1b", "qwen2.5:1.5b-instruct-q4_K_M"];

const described = (state: string, ip: string | undefined = "203.0.113.7") => ({
  Reservations: [{ Instances: [{ InstanceId: INSTANCE, State: { Name: state as "running" }, PublicIpAddress: ip, InstanceType: "t3.large" as const }] }],
});

describe("manage-ollama", () => {
  const ec2 = mockClient(EC2Client);
  let ollama: OllamaStandIn;
  beforeAll(async () => {
    ollama = await OllamaStandIn.start({ apiKey: TEST_OLLAMA_API_KEY, models: ["llama3.2:1b"] });
  });
  afterAll(() => ollama.stop());
  beforeEach(() => ec2.reset());

  const run = (argv: string[], options: { url?: string; apiKey?: string; runSsh?: (args: readonly string[]) => Promise<number> } = {}) => {
    const io = captureIo();
    const outputs = new StackOutputs("ai-chatbot", "cdktf-outputs.json", {
      ollama_instance_id: INSTANCE,
      ollama_url: options.url ?? ollama.url,
      ollama_public_ip: "203.0.113.7",
      ollama_api_key: options.apiKey ?? TEST_OLLAMA_API_KEY,
    });
    let clock = 0;
    const code = main(argv, {
      io,
      env: { AWS_REGION: "us-east-1" },
      cwd: "/nonexistent",
      outputs: async () => outputs,
      ec2: () => new EC2Client({ region: "us-east-1" }),
      ollama: (baseUrl, apiKey) => new OllamaClient({ baseUrl, apiKey, statusTimeoutMs: 2000 }),
      configuredModels: () => CONFIGURED,
      sleep: async (ms) => {
        clock += ms;
      },
      now: () => clock,
      pollIntervalMs: 5000,
      ...(options.runSsh ? { runSsh: options.runSsh } : {}),
    });
    return { io, code };
  };

  it("status shows the instance, the API through the proxy and the missing model", async () => {
    ec2.on(DescribeInstancesCommand).resolves(described("running"));
    const { io, code } = run(["status"]);
    expect(await code).toBe(1);
    expect(io.out()).toContain(`instance  ${INSTANCE}  running  (t3.large)`);
    expect(io.out()).toContain("Ollama 0.12.0, answering through the proxy");
    expect(io.out()).toMatch(/present {2}llama3\.2:1b/);
    expect(io.out()).toMatch(/missing {2}qwen2\.5:1\.5b-instruct-q4_K_M/);
    expect(ollama.requests.at(-1)?.headers["x-api-key"]).toBe(TEST_OLLAMA_API_KEY);
  });

  it("status says when the proxy refuses the API key, without printing either key", async () => {
    ec2.on(DescribeInstancesCommand).resolves(described("running"));
    const { io, code } = run(["status"], { apiKey: "wrong-key-value" });
    expect(await code).toBe(1);
    expect(io.out()).toContain("refused the API key (401)");
    expect(io.out() + io.err()).not.toContain("wrong-key-value");
    expect(io.out() + io.err()).not.toContain(TEST_OLLAMA_API_KEY);
  });

  it("status of a stopped instance does not probe the API", async () => {
    ec2.on(DescribeInstancesCommand).resolves(described("stopped", undefined));
    const before = ollama.requests.length;
    const { io, code } = run(["status"]);
    expect(await code).toBe(0);
    expect(io.out()).toContain("the instance is stopped");
    expect(ollama.requests.length).toBe(before);
  });

  it("start starts a stopped instance and waits until it runs and the API answers", async () => {
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce(described("stopped", undefined))
      .resolvesOnce(described("pending"))
      .resolves(described("running"));
    ec2.on(StartInstancesCommand).resolves({});
    const { io, code } = run(["start"]);
    expect(await code).toBe(0);
    expect(ec2.commandCalls(StartInstancesCommand)[0]?.args[0].input).toEqual({ InstanceIds: [INSTANCE] });
    expect(io.out()).toContain("starting i-0123456789abcdef0 (was stopped)");
    expect(io.err()).toMatch(/waiting for the instance to run \.\. instance running/);
    expect(io.err()).toMatch(/waiting for the Ollama API at .* Ollama 0\.12\.0 answers through the proxy/);
    expect(io.out()).toContain("ready");
  });

  it("start gives up after --timeout when the API never answers", async () => {
    ec2.on(DescribeInstancesCommand).resolves(described("running"));
    const { io, code } = run(["start", "--timeout", "20"], { url: await closedPortUrl() });
    expect(await code).toBe(1);
    expect(io.err()).toMatch(/not ready within 20 s \(last answer: nothing answers/);
  });

  it("stop stops the instance and says the models sync to S3", async () => {
    ec2.on(DescribeInstancesCommand).resolvesOnce(described("running")).resolvesOnce(described("stopping")).resolves(described("stopped"));
    ec2.on(StopInstancesCommand).resolves({});
    const { io, code } = run(["stop", "--wait"]);
    expect(await code).toBe(0);
    expect(ec2.commandCalls(StopInstancesCommand)).toHaveLength(1);
    expect(io.out()).toContain("synced to S3 on shutdown");
    expect(io.err()).toContain("instance stopped");
  });

  it("ssh prints the command for the public IP with the AMI's user, and runs it with --exec", async () => {
    ec2.on(DescribeInstancesCommand).resolves(described("running"));
    const printed = run(["ssh", "--key", "~/.ssh/labsuser.pem"]);
    expect(await printed.code).toBe(0);
    expect(printed.io.out().split("\n")[0]).toBe("ssh -i ~/.ssh/labsuser.pem ec2-user@203.0.113.7");
    const runSsh = jest.fn(async () => 0);
    const executed = run(["ssh", "--exec", "--user", "admin"], { runSsh });
    expect(await executed.code).toBe(0);
    expect(runSsh).toHaveBeenCalledWith(["admin@203.0.113.7"]);
  });

  it("explains missing AWS credentials", async () => {
    ec2.on(DescribeInstancesCommand).rejects(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    const { io, code } = run(["status"]);
    expect(await code).toBe(1);
    expect(io.err()).toMatch(/no AWS credentials found; set AWS_PROFILE/);
  });

  describe("on a stack without an Ollama instance", () => {
    const runWithout = (command: string) => {
      const io = captureIo();
      const outputs = new StackOutputs("ai-chatbot", "cdktf-outputs.json", { model_providers: "bedrock,openai", lambda_function_name: "telegram-bot" });
      const code = main([command], { io, env: {}, cwd: "/nonexistent", outputs: async () => outputs, ec2: () => new EC2Client({ region: "us-east-1" }) });
      return { io, code };
    };

    it("status says so plainly and exits 0, calling no AWS API", async () => {
      const { io, code } = runWithout("status");
      expect(await code).toBe(0);
      expect(io.out().trim()).toBe(NO_OLLAMA_INSTANCE);
      expect(NO_OLLAMA_INSTANCE).toBe("This stack has no Ollama instance (no model in `models` uses provider ollama)");
      expect(ec2.calls()).toHaveLength(0);
    });

    it.each(["start", "stop", "ssh"])("%s says so and fails", async (command) => {
      const { io, code } = runWithout(command);
      expect(await code).toBe(1);
      expect(io.err()).toContain(`error: ${NO_OLLAMA_INSTANCE}: nothing to ${command}`);
      expect(ec2.calls()).toHaveLength(0);
    });

    it("tells stacks by their model_providers output; one deployed before it had an instance", () => {
      expect(hasOllamaInstance(new StackOutputs("s", "f", { model_providers: "ollama,bedrock" }))).toBe(true);
      expect(hasOllamaInstance(new StackOutputs("s", "f", { model_providers: "bedrock" }))).toBe(false);
      expect(hasOllamaInstance(new StackOutputs("s", "f", { ollama_instance_id: INSTANCE }))).toBe(true);
    });
  });

  it("asks for one command", async () => {
    const { io, code } = run([]);
    expect(await code).toBe(2);
    expect(io.err()).toContain("expected one command: start, stop, status or ssh");
  });

  describe("pure parts", () => {
    it("compares models with and without the :latest tag", () => {
      expect(compareModels(["llama3.2:1b", "mistral:latest"], ["llama3.2:1b", "mistral", "phi3:mini"])).toEqual({
        present: ["llama3.2:1b", "mistral:latest"],
        missing: ["phi3:mini"],
        extra: [],
      });
    });

    it("formats the spinner line with the elapsed time", () => {
      expect(formatSpinnerLine(1, "waiting", 65_000)).toBe("/ waiting 1m 05s");
    });

    it("builds and quotes the ssh command", () => {
      expect(sshArgs("1.2.3.4", "ec2-user", undefined)).toEqual(["ec2-user@1.2.3.4"]);
      expect(shellQuote("my key.pem")).toBe("'my key.pem'");
    });
  });
});
