import { baseUrlProblem, modelListFromEnv, ollamaModelIds, providersOf, readModelList, readModelSetting } from "../../config/models";

const HAIKU = { name: "claude-haiku", provider: "bedrock", model: "us.anthropic.claude-3-5-haiku-20241022-v1:0" } as const;

describe("config/models", () => {
  it("lists each Ollama model once, and each provider once, in order", () => {
    const { entries } = readModelList(["llama3.2:1b", HAIKU, { name: "llama-think", model: "llama3.2:1b", thinking: true }, "phi3:mini"]);
    expect(ollamaModelIds(entries)).toEqual(["llama3.2:1b", "phi3:mini"]);
    expect(providersOf(entries)).toEqual(["ollama", "bedrock"]);
  });

  it("needs a name when the model id cannot be one", () => {
    const arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6a1b2c3d4e5f6";
    expect(readModelList([{ provider: "bedrock", model: arn }]).problems).toEqual([{ field: "models[0].name", message: expect.stringMatching(/^is required when the model id is not itself a name/) }]);
    expect(readModelList([{ name: "tagged", provider: "bedrock", model: arn }]).problems).toEqual([]);
    expect(readModelList([{ provider: "openai", model: "my$model", baseUrl: "https://gpu.example.com/v1" }]).problems.map((p) => p.field)).toEqual(["models[0].name"]);
  });

  it("reports an unknown provider once, not also its model", () => {
    expect(readModelList([{ provider: "gemini", model: "gemini-pro" }]).problems.map((p) => p.field)).toEqual(["models[0].provider"]);
  });

  it("words every problem of a setting with its field and value, never a base URL", () => {
    const { messages } = readModelSetting([{ ...HAIKU, provider: "gemini" }, { name: "q", provider: "openai", model: "q", baseUrl: "http://key@gpu.example.com" }, "Llama:8B"]);
    expect(messages).toEqual([
      'invalid models[0].provider: got "gemini"; must be one of ollama, bedrock, openai',
      expect.stringMatching(/^invalid models\[1\]\.baseUrl: must not carry credentials/),
      expect.stringMatching(/^invalid models\[2\]: got "Llama:8B"; must be an ollama model name/),
    ]);
  });

  it("reads the model list of OLLAMA_MODELS and of MODELS", () => {
    expect(modelListFromEnv("OLLAMA_MODELS", "a:1, ,b:2")).toEqual(["a:1", "b:2"]);
    expect(modelListFromEnv("MODELS", JSON.stringify([HAIKU]))).toEqual([HAIKU]);
    expect(() => modelListFromEnv("MODELS", "{")).toThrow(/^invalid MODELS: got "\{"; allowed: json/);
  });
});

describe("baseUrlProblem", () => {
  it.each(["https://gpu.example.com/v1", "https://api.openai.com/v1/", "http://localhost:8000/v1", "http://127.0.0.5:1234/v1", "http://[::1]:8080/v1"])(
    "accepts %s",
    (url) => expect(baseUrlProblem(url)).toBeUndefined(),
  );

  it.each([
    ["not a url", /http\(s\) URL/],
    ["ftp://gpu.example.com/v1", /http\(s\) URL/],
    ["http://gpu.example.com/v1", /outside this machine/],
    ["http://10.0.0.5:8000/v1", /outside this machine/],
    ["https://user:secret-pass@gpu.example.com/v1", /credentials/],
    ["https://gpu.example.com/v1?key=abc", /query/],
  ])("refuses %s, without repeating it", (url, problem) => {
    const said = baseUrlProblem(url);
    expect(said).toMatch(problem);
    expect(said).not.toContain("secret-pass");
    expect(said).not.toContain("example.com");
  });
});

