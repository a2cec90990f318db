import { capabilitiesOf, FAILED_LOOKUP_RETRY_MS, hasCapability, modelCapabilities } from "../../../handler/model/capabilities";
import type { ModelApi, ModelInfo } from "../../../handler/model/model-api";
import { ServiceError } from "../../../handler/net/errors";

/** A ModelApi whose showModel answers from a table, counting the questions. */
function fakeApi(answers: Record<string, readonly string[] | "fail">): ModelApi & { asked: string[] } {
  const asked: string[] = [];
  const showModel = (model: string): Promise<ModelInfo> => {
    asked.push(model);
    const answer = answers[model];
    return answer === "fail" || answer === undefined
      ? Promise.reject(new ServiceError({ service: "ollama", operation: "show", status: 404, description: "not found" }))
      : Promise.resolve({ capabilities: answer });
  };
  const unused = () => Promise.reject(new Error("not used"));
  return { provider: "ollama", asked, showModel, chatStream: unused, health: () => Promise.resolve({ reachable: true }) };
}

describe("model capabilities", () => {
  it("reads the strings of /api/show's capabilities, [] when there are none", () => {
    expect(capabilitiesOf({ capabilities: ["completion", 7, "vision"] })).toEqual(["completion", "vision"]);
    expect(capabilitiesOf({ modelfile: "" })).toEqual([]);
    expect(capabilitiesOf(null)).toEqual([]);
  });

  it("asks once per model and container, also when asked concurrently", async () => {
    const api = fakeApi({ "qwen3:1.7b": ["completion", "thinking"], "gemma3:4b": ["completion", "vision"] });
    await Promise.all([hasCapability(api, "qwen3:1.7b", "thinking"), hasCapability(api, "qwen3:1.7b", "thinking")]);
    await expect(hasCapability(api, "qwen3:1.7b", "vision")).resolves.toBe(false);
    await expect(hasCapability(api, "gemma3:4b", "vision")).resolves.toBe(true);
    expect(api.asked).toEqual(["qwen3:1.7b", "gemma3:4b"]);
  });

  it("remembers a failed question for a while, then asks again", async () => {
    const api = fakeApi({ "m:1b": "fail" });
    let now = 1_000_000;
    await expect(modelCapabilities(api, "m:1b", () => now)).resolves.toBeUndefined();
    now += FAILED_LOOKUP_RETRY_MS - 1;
    await modelCapabilities(api, "m:1b", () => now);
    expect(api.asked).toHaveLength(1);
    now += 2;
    await modelCapabilities(api, "m:1b", () => now);
    expect(api.asked).toHaveLength(2);
  });

  it("with waitMs, says false when the answer is late, and keeps the answer for the next question", async () => {
    let answer: (info: ModelInfo) => void = () => undefined;
    const api = { ...fakeApi({}), showModel: () => new Promise<ModelInfo>((resolve) => (answer = resolve)) };
    await expect(hasCapability(api, "slow:1b", "thinking", 10)).resolves.toBe(false);
    answer({ capabilities: ["thinking"] });
    await expect(hasCapability(api, "slow:1b", "thinking", 10)).resolves.toBe(true);
  });
});
