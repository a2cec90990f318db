import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { authorizerEvent, webhookMethodArn } from "../../local/authorizer-event";
import { proxyEventFromUpdate } from "../../local/lambda-event";
import { sqsEventFromUpdates } from "../../local/sqs-event";
import { startHarness, type Harness } from "../support/handler-harness";
import { TEST_SECRET_TOKEN, TEST_USER_ID, documentUpdate, textUpdate } from "../support/updates";

const run = promisify(execFile);

/** Loads the bundle in a fresh node process with `env`, invokes handler(event, context) once and prints the result. */
const RUNNER = `
const entry = require(process.argv[1])[process.argv[3] || "handler"];
const context = { awsRequestId: "dist-test", getRemainingTimeInMillis: () => 30000 };
entry(JSON.parse(process.argv[2]), context).then((r) => process.stdout.write("RESULT " + JSON.stringify(r) + "\\n"));
`;

describe("dist/handler/index.js (the built Lambda bundle)", () => {
  let h: Harness;
  let outDir: string;
  let bundle: string;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), "handler-bundle-"));
    // The project's tsup config, written to a temporary folder so dist/ of a parallel build is untouched.
    await run("npx", ["tsup", "--out-dir", outDir], { cwd: join(__dirname, "../.."), env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    bundle = join(outDir, "index.js");
    h = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await rm(outDir, { recursive: true, force: true });
  });

  async function invoke(env: Record<string, string>, update: object, secretToken = TEST_SECRET_TOKEN) {
    const event = proxyEventFromUpdate(update, { secretToken });
    const { stdout } = await run(process.execPath, ["-e", RUNNER, bundle, JSON.stringify(event)], {
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    const lines = stdout.trim().split("\n");
    const result = JSON.parse(lines.find((l) => l.startsWith("RESULT "))!.slice("RESULT ".length)) as { statusCode: number };
    return { result, logs: lines.filter((l) => !l.startsWith("RESULT ")) };
  }

  it("is one self-contained CommonJS file exporting handler and authorizer, loaded without a word", async () => {
    expect((await stat(bundle)).isFile()).toBe(true);
    const { stdout } = await run(process.execPath, ["-e", `const m = require(${JSON.stringify(bundle)}); process.stdout.write(typeof m.handler + " " + typeof m.authorizer)`], {
      cwd: outDir,
      env: { PATH: process.env.PATH ?? "" },
    });
    // Each function builds what it needs on its first invocation: loading logs nothing.
    expect(stdout).toBe("function function");
  });

  it("consumes an SQS batch (queue mode) and answers its records", async () => {
    const userId = TEST_USER_ID + 60_030;
    const event = sqsEventFromUpdates([textUpdate("/start", { userId }), textUpdate("queued to the bundle", { userId })]);
    const { TELEGRAM_SECRET_TOKEN: _secret, ...env } = h.env;
    const { stdout } = await run(process.execPath, ["-e", RUNNER, bundle, JSON.stringify(event)], { env: { PATH: process.env.PATH ?? "", ...env } });
    expect(stdout.trim().split("\n").find((l) => l.startsWith("RESULT "))).toBe('RESULT {"batchItemFailures":[]}');
    expect(h.repliesTo(userId)[1]).toBe("You said: queued to the bundle");
  });

  it("authorizes a webhook request with the right secret and denies any other", async () => {
    const methodArn = webhookMethodArn();
    const policy = async (secretToken: string) => {
      const { stdout } = await run(process.execPath, ["-e", RUNNER, bundle, JSON.stringify(authorizerEvent({ secretToken, methodArn })), "authorizer"], {
        env: { PATH: process.env.PATH ?? "", TELEGRAM_SECRET_TOKEN: TEST_SECRET_TOKEN },
      });
      const result = JSON.parse(stdout.trim().split("\n").find((l) => l.startsWith("RESULT "))!.slice("RESULT ".length)) as { policyDocument: { Statement: { Effect: string; Resource: string }[] } };
      return result.policyDocument.Statement[0];
    };
    expect(await policy(TEST_SECRET_TOKEN)).toEqual(expect.objectContaining({ Effect: "Allow", Resource: methodArn }));
    expect(await policy("wrong")).toEqual(expect.objectContaining({ Effect: "Deny", Resource: methodArn }));
  });

  it("configured only by environment variables, answers /start and a chat message through the emulators", async () => {
    const userId = TEST_USER_ID + 60_000;
    const start = await invoke(h.env, textUpdate("/start", { userId }));
    expect(start.result.statusCode).toBe(200);
    const chat = await invoke(h.env, textUpdate("from the bundle", { userId }));
    expect(chat.result.statusCode).toBe(200);
    expect(h.repliesTo(userId)[0]).toContain("Hello");
    expect(h.repliesTo(userId)[1]).toBe("You said: from the bundle");
    expect((await h.sessions.getActive(userId)).session?.messageCount).toBe(2);
    for (const line of [...start.logs, ...chat.logs]) {
      expect(() => JSON.parse(line)).not.toThrow();
      expect(line).not.toContain(h.env.TELEGRAM_TOKEN);
      expect(line).not.toContain(h.env.OLLAMA_API_KEY);
    }
  });

  it("archives to S3 with the credentials the environment gives (the bundle's own credential chain)", async () => {
    const userId = TEST_USER_ID + 60_010;
    await invoke(h.env, textUpdate("/start", { userId }));
    await invoke(h.env, textUpdate("to be archived", { userId }));
    const archive = await invoke(h.env, textUpdate("/archive 1", { userId }));
    expect(archive.result.statusCode).toBe(200);
    const archives = await h.archives.list(userId);
    expect(archives).toHaveLength(1);
    expect((await h.sessions.listSessions(userId)).length).toBe(0);
  });

  // The bundle's build plugins trim the S3 SDK's schemas and undici's modules: every S3
  // operation, the multipart upload and the file download must still work from the bundle.
  it("lists, exports (multipart) and imports back (file download) an archive", async () => {
    const userId = TEST_USER_ID + 60_020;
    await invoke(h.env, textUpdate("/start", { userId }));
    await invoke(h.env, textUpdate("round trip through the bundle", { userId }));
    await invoke(h.env, textUpdate("/archive 1", { userId }));
    const listed = await invoke(h.env, textUpdate("/listarchives", { userId }));
    expect(listed.result.statusCode).toBe(200);
    expect(h.repliesTo(userId).at(-1)).toContain(h.config.modelNames[0]);

    const exported = await invoke(h.env, textUpdate("/export 1", { userId }));
    expect(exported.result.statusCode).toBe(200);
    const [document] = h.telegram.documentsIn(userId);
    expect(document?.filename).toMatch(/^archive_[0-9a-f]{8}_.+\.json$/);
    const archived = JSON.parse(document!.data.toString("utf8")) as { conversation: { content: string }[] };
    expect(archived.conversation.map((m) => m.content)).toContain("round trip through the bundle");

    const file = h.telegram.addFile(document!.data);
    const imported = await invoke(h.env, documentUpdate(file.file_id, { userId, fileName: document!.filename }));
    expect(imported.result.statusCode).toBe(200);
    expect(h.repliesTo(userId).at(-1)).toMatch(/import/i);
    expect(await h.archives.list(userId)).toHaveLength(2);
  });

  it("answers a direct observability-test invocation with one ERROR line", async () => {
    const payload = { observabilityTest: true, requestedBy: "bundle test" };
    const { stdout } = await run(process.execPath, ["-e", RUNNER, bundle, JSON.stringify(payload)], {
      env: { PATH: process.env.PATH ?? "", ...h.env },
    });
    const lines = stdout.trim().split("\n");
    expect(lines.find((l) => l.startsWith("RESULT "))).toBe('RESULT {"ok":true}');
    const errors = lines.filter((l) => !l.startsWith("RESULT ")).map((l) => JSON.parse(l) as { level: string; message: string });
    expect(errors.filter((e) => e.level === "ERROR")).toEqual([
      expect.objectContaining({ message: "observability test error requested by bundle test" }),
    ]);
  });

  it("answers 401 to a wrong secret", async () => {
    const { result } = await invoke(h.env, textUpdate("/start", { userId: TEST_USER_ID + 60_001 }), "wrong");
    expect(result.statusCode).toBe(401);
  });

  it("logs a missing setting by name at cold start and still answers", async () => {
    const { TELEGRAM_SECRET_TOKEN: _secret, ...env } = h.env;
    const { result, logs } = await invoke({ ...env, OLLAMA_TIMEOUT_MS: "soon" }, textUpdate("/echo ok", { userId: TEST_USER_ID + 60_002 }));
    expect(result.statusCode).toBe(200);
    expect(logs.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ level: "WARNING", action: "load_config", variable: "OLLAMA_TIMEOUT_MS" }),
    );
    expect(h.repliesTo(TEST_USER_ID + 60_002)).toEqual(["ok"]);
  });
});
