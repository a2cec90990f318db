import { ArgumentError, parseStartArgs, parseWebhookServerArgs } from "../../local/args";

describe("local command lines", () => {
  it("has the documented defaults", () => {
    expect(parseStartArgs([])).toEqual({ help: false, deleteWebhook: false, dataDir: ".data", exportsDir: "exports", pollTimeoutSeconds: 30, userId: 1, standInModel: false });
    expect(parseWebhookServerArgs([])).toEqual({ help: false, port: 8787, host: "127.0.0.1", dataDir: ".data", publicUrl: undefined, delivery: "sync" });
  });

  it("reads the options", () => {
    expect(parseStartArgs(["--delete-webhook", "--poll-timeout", "5", "--user-id", "42"])).toMatchObject({ deleteWebhook: true, pollTimeoutSeconds: 5, userId: 42 });
    expect(parseStartArgs(["--stand-in-model"]).standInModel).toBe(true);
    expect(parseWebhookServerArgs(["--port", "0", "--public-url", "https://t.example/"])).toMatchObject({ port: 0, publicUrl: "https://t.example" });
  });

  it("refuses bad values with a message naming them", () => {
    expect(() => parseStartArgs(["--poll-timeout", "99"])).toThrow(/--poll-timeout must be a whole number from 1 to 50/);
    expect(() => parseStartArgs(["--what"])).toThrow(ArgumentError);
    expect(() => parseWebhookServerArgs(["--public-url", "http://insecure"])).toThrow(/https/);
    expect(parseWebhookServerArgs(["--delivery", "queue"]).delivery).toBe("queue");
    expect(() => parseWebhookServerArgs(["--delivery", "async"])).toThrow(/--delivery must be sync or queue, got "async"/);
  });
});
