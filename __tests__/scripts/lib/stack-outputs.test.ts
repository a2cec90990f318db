import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "../../../scripts/lib/cli";
import {
  flattenOutputsFile,
  loadStackOutputs,
  parseOutputsFile,
  parseTerraformOutputJson,
  resolveStackName,
  StackOutputs,
} from "../../../scripts/lib/stack-outputs";

const SECRET = "webhook-secret-value-not-to-print";

describe("stack outputs", () => {
  describe("parseOutputsFile", () => {
    it("reads the only stack of a cdktf outputs file", () => {
      const outputs = parseOutputsFile({ "ai-chatbot": { api_gateway_url: "https://x/dev/webhook", webhook_secret: SECRET } }, "f.json");
      expect(outputs?.stackName).toBe("ai-chatbot");
      expect(outputs?.get("api_gateway_url")).toBe("https://x/dev/webhook");
    });

    it("picks the named stack among several and refuses to guess otherwise", () => {
      const json = { a: { x: "1" }, b: { x: "2" } };
      expect(parseOutputsFile(json, "f", "b")?.get("x")).toBe("2");
      expect(() => parseOutputsFile(json, "f", "c")).toThrow(/choose one with --stack/);
    });

    it("returns undefined for an empty file object (nothing deployed)", () => {
      expect(parseOutputsFile({}, "f")).toBeUndefined();
    });
  });

  it("flattens outputs nested in constructs by id and by path", () => {
    expect(flattenOutputsFile({ Api: { url: "u" }, top: 1 })).toEqual({ Api_url: "u", url: "u", top: 1 });
  });

  it("matches camelCase and snake_case names alike", () => {
    const outputs = new StackOutputs("s", "f", { apiGatewayUrl: "u", ollama_public_ip: 5 });
    expect(outputs.get("api_gateway_url")).toBe("u");
    expect(outputs.get("ollamaPublicIp")).toBe("5");
  });

  it("unwraps terraform output -json values, sensitive ones included", () => {
    const text = JSON.stringify({ webhook_secret: { sensitive: true, type: "string", value: SECRET }, n: { sensitive: false, type: "number", value: 3 } });
    const outputs = parseTerraformOutputJson(text, "s");
    expect(outputs?.get("webhook_secret")).toBe(SECRET);
    expect(outputs?.get("n")).toBe("3");
    expect(parseTerraformOutputJson("{}", "s")).toBeUndefined();
  });

  it("names a missing sensitive output and how to get it, never a value", () => {
    const outputs = new StackOutputs("s", "cdktf-outputs.json", { api_gateway_url: "u" });
    expect(() => outputs.require("webhook_secret")).toThrow(/sensitive.*--outputs-file-include-sensitive-outputs/);
    expect(() => outputs.require("lambda_function_name")).toThrow(/has no output lambda_function_name/);
  });

  describe("loadStackOutputs", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "outputs-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("reads cdktf-outputs.json first", async () => {
      writeFileSync(join(dir, "cdktf-outputs.json"), JSON.stringify({ "ai-chatbot": { s3_bucket_name: "b" } }));
      const terraform = jest.fn();
      const outputs = await loadStackOutputs({ cwd: dir, env: {}, terraform });
      expect(outputs.get("s3_bucket_name")).toBe("b");
      expect(terraform).not.toHaveBeenCalled();
    });

    it("falls back to terraform output -json in the synthesized stack's folder", async () => {
      const stackDir = join(dir, "cdktf.out", "stacks", "ai-chatbot");
      mkdirSync(stackDir, { recursive: true });
      writeFileSync(join(dir, "cdktf.out", "manifest.json"), JSON.stringify({ stacks: { "ai-chatbot": {} } }));
      const terraform = jest.fn(async () => JSON.stringify({ s3_bucket_name: { value: "b2", sensitive: false } }));
      const outputs = await loadStackOutputs({ cwd: dir, env: {}, terraform });
      expect(terraform).toHaveBeenCalledWith(stackDir);
      expect(outputs.get("s3_bucket_name")).toBe("b2");
      expect(outputs.source).toBe("terraform output");
    });

    it("says the stack is not deployed when neither has outputs", async () => {
      const promise = loadStackOutputs({ cwd: dir, env: {}, terraform: async () => "{}" });
      await expect(promise).rejects.toBeInstanceOf(CliError);
      await expect(loadStackOutputs({ cwd: dir, env: {} })).rejects.toThrow(/stack ai-chatbot is not deployed.*npx cdktf deploy/);
    });

    it("refuses an explicit outputs file that does not exist", async () => {
      await expect(loadStackOutputs({ cwd: dir, env: {}, file: "missing.json" })).rejects.toThrow(/does not exist/);
    });
  });

  it("takes the stack name from the synthesized manifest", () => {
    const dir = mkdtempSync(join(tmpdir(), "manifest-"));
    try {
      mkdirSync(join(dir, "cdktf.out"));
      writeFileSync(join(dir, "cdktf.out", "manifest.json"), JSON.stringify({ stacks: { mine: {} } }));
      expect(resolveStackName(dir, {})).toBe("mine");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
