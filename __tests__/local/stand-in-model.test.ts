import { validateStackConfig } from "../../config/stack-config";
import { bedrockStandInReply, openAiStandInReply, standInEnv, standInReply, standInStack, startStandInModels } from "../../local/stand-in-model";

const stack = validateStackConfig({
  models: [
    "llama3.2:1b",
    { name: "claude", provider: "bedrock", model: "anthropic.claude-3-haiku-20240307-v1:0" },
    { name: "gpu-qwen", provider: "openai", model: "Qwen/Qwen2.5-7B-Instruct", baseUrl: "https://gpu.example.com/v1" },
  ],
});

describe("local/stand-in-model", () => {
  it("echoes the question and counts pictures and context the same way for every provider", () => {
    const image = { image: { format: "png", source: { bytes: "iVBORw0KGgo=" } } };
    const bedrock = bedrockStandInReply({ modelId: "m", body: { system: [{ text: "be brief" }], messages: [{ role: "user", content: [{ text: "what is it?" }, image] }] } });
    const openai = openAiStandInReply({ model: "m", messages: [{ role: "system", content: "be brief" }, { role: "user", content: [{ type: "text", text: "what is it?" }, { type: "image_url", image_url: { url: "data:" } }] }] });
    const ollama = standInReply({ model: "m", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "what is it?", images: ["iVBORw0KGgo="] }] });
    expect(bedrock).toMatch(/^You said: what is it\? with a picture\. This is the stand-in model of npm start --stand-in-model \(m, 2 message\(s\) of context\)/);
    expect(openai).toBe(bedrock);
    expect(ollama).toBe(bedrock);
  });

  it("points the openai entries' baseUrl at the stand-in and leaves the other entries as they are", () => {
    const pointed = standInStack(stack, [{ provider: "openai", url: "http://127.0.0.1:9/v1" }]);
    expect(pointed.models.map((e) => e.baseUrl)).toEqual([undefined, undefined, "http://127.0.0.1:9/v1"]);
    expect(pointed.models.slice(0, 2)).toEqual(stack.models.slice(0, 2));
    expect(standInStack(stack, [{ provider: "ollama", url: "http://127.0.0.1:8" }])).toBe(stack);
  });

  it("gives the handler the stand-ins' addresses and none of the real keys", () => {
    const env = { OLLAMA_URL: "https://ollama.example.com", OLLAMA_API_KEY: "k1", OPENAI_API_KEY: "k2", LOG_LEVEL: "ERROR" };
    const running = [
      { provider: "ollama" as const, url: "http://127.0.0.1:1" },
      { provider: "bedrock" as const, url: "http://127.0.0.1:2" },
      { provider: "openai" as const, url: "http://127.0.0.1:3/v1" },
    ];
    expect(standInEnv(env, running)).toEqual({ OLLAMA_URL: "http://127.0.0.1:1", OLLAMA_API_KEY: undefined, OPENAI_API_KEY: undefined, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: "http://127.0.0.1:2", LOG_LEVEL: "ERROR" });
    expect(standInEnv(env, [])).toEqual(env);
  });

  it("starts a stand-in only for the providers the list uses, and stops them", async () => {
    const models = await startStandInModels({ stack: validateStackConfig({ models: [{ name: "claude", provider: "bedrock", model: "anthropic.claude-3-haiku-20240307-v1:0" }] }), env: {} });
    try {
      expect(models.running.map((s) => [s.provider, s.models])).toEqual([["bedrock", ["claude"]]]);
      expect(models.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME).toBe(models.running[0]!.url);
      expect(models.env.OLLAMA_URL).toBeUndefined();
    } finally {
      await models.stop();
    }
    await expect(fetch(`${models.running[0]!.url}/model/x/converse-stream`, { method: "POST" })).rejects.toThrow();
  });

});
