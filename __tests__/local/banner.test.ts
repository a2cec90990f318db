import { formatBanner, standInRows } from "../../local/banner";

describe("local/banner", () => {
  it("lists each stand-in of --stand-in-model on a row of its own, in the banner's columns", () => {
    const rows = standInRows([
      { serves: "Ollama", url: "http://127.0.0.1:1", models: ["llama3.2:1b"] },
      { serves: "Bedrock Runtime", url: "http://127.0.0.1:2", models: ["claude", "deepseek"] },
    ]);
    const banner = formatBanner({ mode: "terminal chat", dynamodbEndpoint: "d", tableName: "t", s3Endpoint: "s", bucketName: "b", dataDir: ".data", ollamaUrl: "http://127.0.0.1:1", models: [], extra: rows });
    expect(banner).toContain("\n  Ollama    http://127.0.0.1:1\n");
    expect(banner).toContain("\n  stand-in  Ollama at http://127.0.0.1:1 for llama3.2:1b\n  stand-in  Bedrock Runtime at http://127.0.0.1:2 for claude, deepseek\n");
  });
});
