import type { BotApi } from "../../handler/telegram/bot-api";
import { TelegramClient } from "../../handler/telegram/client";
import { main } from "../../scripts/setup-webhook";
import { StackOutputs } from "../../scripts/lib/stack-outputs";
import { captureIo } from "../support/cli-io";
import { TelegramStandIn } from "../../local/stand-ins/telegram/server";
import { TEST_SECRET_TOKEN, TEST_TOKEN, textUpdate } from "../support/updates";

const API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/dev/webhook";

describe("setup-webhook", () => {
  let telegram: TelegramStandIn;
  beforeAll(async () => {
    telegram = await TelegramStandIn.start({ token: TEST_TOKEN, botUsername: "CloudAiBot" });
  });
  afterAll(() => telegram.stop());
  beforeEach(() => telegram.reset());

  const outputs = (values: Record<string, unknown> = { api_gateway_url: API_URL, webhook_secret: TEST_SECRET_TOKEN }) =>
    jest.fn(async () => new StackOutputs("ai-chatbot", "cdktf-outputs.json", values));
  const run = (argv: string[], env: NodeJS.ProcessEnv = { TF_VAR_telegram_token: TEST_TOKEN }, outputsLoader = outputs()) => {
    const io = captureIo();
    const code = main(argv, { io, env: { TELEGRAM_API_URL: telegram.url, ...env }, cwd: "/nonexistent", outputs: outputsLoader });
    return { io, code };
  };

  const telegram_getCommands = () =>
    fetch(`${telegram.url}/bot${TEST_TOKEN}/getMyCommands`).then(async (r) => ((await r.json()) as { result: unknown }).result);

  it("sets the webhook with the stack's secret and only the update types the bot handles", async () => {
    const { io, code } = run([]);
    expect(await code).toBe(0);
    expect(telegram.webhook).toEqual({ url: API_URL, secretToken: TEST_SECRET_TOKEN, allowedUpdates: ["message", "callback_query"], dropPendingUpdates: false });
    expect(telegram.callsTo("getWebhookInfo")).toHaveLength(1);
    const menu = (await telegram_getCommands()) as { command: string; description: string }[];
    expect(menu.map((c) => c.command)).toEqual(expect.arrayContaining(["start", "newsession", "switch", "archive", "export", "system"]));
    for (const c of menu) expect(c.description.length).toBeGreaterThan(0);
    expect(io.out()).toContain("bot: @CloudAiBot");
    expect(io.out()).toContain("send /start to @CloudAiBot");
  });

  it("names the update queue and its dead-letter queue in queue mode, and sync delivery otherwise", async () => {
    const queueUrl = "https://sqs.us-east-1.amazonaws.com/123456789012/telegram-bot-updates.fifo";
    const dlqUrl = "https://sqs.us-east-1.amazonaws.com/123456789012/telegram-bot-updates-failed.fifo";
    const queued = run([], undefined, outputs({ api_gateway_url: API_URL, webhook_secret: TEST_SECRET_TOKEN, update_queue_url: queueUrl, dead_letter_queue_url: dlqUrl }));
    expect(await queued.code).toBe(0);
    expect(queued.io.out()).toContain(`delivery: queue ${queueUrl} (dead letters: ${dlqUrl})`);
    const sync = run([]);
    expect(await sync.code).toBe(0);
    expect(sync.io.out()).toContain("delivery: sync");
  });

  it("drops pending updates when asked and reports none waiting", async () => {
    telegram.pushUpdate(textUpdate("queued"));
    const { io, code } = run(["--drop-pending"]);
    expect(await code).toBe(0);
    expect(telegram.webhook.dropPendingUpdates).toBe(true);
    expect(io.out()).toContain("no updates waiting");
  });

  it("warns about pending updates without failing", async () => {
    telegram.pushUpdate(textUpdate("queued"));
    const { io, code } = run([]);
    expect(await code).toBe(0);
    expect(io.out()).toMatch(/warning\s+1 update\(s\) are waiting/);
  });

  it("never prints the token or the secret", async () => {
    const { io, code } = run([]);
    await code;
    const all = io.out() + io.err();
    expect(all).not.toContain(TEST_TOKEN);
    expect(all).not.toContain(TEST_SECRET_TOKEN);
  });

  it("fails clearly on a token Telegram rejects, without printing it", async () => {
    const wrong = "999999:WRONG-token-that-telegram-rejects";
    const { io, code } = run([], { TF_VAR_telegram_token: wrong });
    expect(await code).toBe(1);
    expect(io.err()).toMatch(/Telegram rejected the bot token from TF_VAR_telegram_token \(401/);
    expect(io.err() + io.out()).not.toContain(wrong);
    expect(telegram.callsTo("setWebhook")).toHaveLength(0);
  });

  it("fails clearly without a token", async () => {
    const { io, code } = run([], {});
    expect(await code).toBe(1);
    expect(io.err()).toContain("no bot token");
  });

  it("reports a stack that is not deployed", async () => {
    const { io, code } = run([], undefined, jest.fn(async () => {
      const { CliError } = await import("../../scripts/lib/cli");
      throw new CliError("stack ai-chatbot is not deployed (no cdktf-outputs.json, no terraform outputs): run npx cdktf deploy");
    }));
    expect(await code).toBe(1);
    expect(io.err()).toContain("is not deployed");
  });

  it("fails when the outputs lack the sensitive webhook secret", async () => {
    const { io, code } = run([], undefined, outputs({ api_gateway_url: API_URL }));
    expect(await code).toBe(1);
    expect(io.err()).toMatch(/webhook_secret is sensitive/);
    expect(telegram.webhook.url).toBe("");
  });

  it("prints Telegram's last delivery error as a problem and exits 1", async () => {
    // Telegram fails its first delivery right after registration (the endpoint answered 401).
    const failingDelivery = (token: string, apiUrl: string | undefined): BotApi => {
      const client = new TelegramClient({ token, apiUrl });
      return {
        async call(method, params) {
          const result = await client.call(method, params);
          if (method === "setWebhook") {
            telegram.webhook = { ...telegram.webhook, lastErrorMessage: "Wrong response from the webhook: 401 Unauthorized", lastErrorDate: Math.floor(Date.now() / 1000) + 1 };
          }
          return result;
        },
      };
    };
    const io = captureIo();
    const code = await main([], { io, env: { TELEGRAM_API_URL: telegram.url, TF_VAR_telegram_token: TEST_TOKEN }, cwd: "/nonexistent", outputs: outputs(), telegram: failingDelivery });
    expect(code).toBe(1);
    expect(io.out()).toMatch(/PROBLEM\s+Telegram's last delivery failed.*401 Unauthorized.*secret token/);
  });

  it("deletes the webhook with --delete", async () => {
    telegram.webhook = { url: API_URL };
    const { io, code } = run(["--delete"]);
    expect(await code).toBe(0);
    expect(telegram.webhook.url).toBe("");
    expect(io.out()).toContain("webhook deleted");
  });

  it("prints help and exits 0, and exits 2 on an unknown option", async () => {
    const help = run(["--help"]);
    expect(await help.code).toBe(0);
    expect(help.io.out()).toContain("Usage: npm run setup-webhook");
    const bad = run(["--nope"]);
    expect(await bad.code).toBe(2);
    expect(bad.io.err()).toContain("--nope");
  });
});
