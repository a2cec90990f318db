import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildArchive } from "../../handler/store/archive-format";
import { ArchiveStore } from "../../handler/store/archives";
import { createDocumentClient, createS3ClientFactory } from "../../handler/store/aws";
import { configWith } from "../../handler/config";
import { SessionStore } from "../../handler/store/sessions";
import { startEmulators, type RunningEmulators } from "../../local/emulators";
import { endpointsOf, writeEndpointsFile } from "../../local/endpoints-file";
import { StackOutputs } from "../../scripts/lib/stack-outputs";
import { main } from "../../scripts/view-data";
import { captureIo } from "../support/cli-io";

describe("view-data", () => {
  let emulators: RunningEmulators;
  let cwd: string;
  beforeAll(async () => {
    emulators = await startEmulators();
    // Seed through the handler's own stores, as the bot would have written.
    const config = configWith({
      region: emulators.region,
      tableName: emulators.tableName,
      bucketName: emulators.bucketName,
      dynamodbEndpoint: emulators.dynamodbEndpoint,
      s3Endpoint: emulators.s3Endpoint,
      s3ForcePathStyle: true,
    });
    const doc = createDocumentClient(config, emulators.credentials);
    const s3 = createS3ClientFactory(config, emulators.credentials);
    const sessions = new SessionStore({ doc, tableName: emulators.tableName });
    const first = await sessions.createSession(1001, "llama3.2:1b");
    await sessions.appendMessage(1001, first.sessionId, "user", "what is DynamoDB?");
    await sessions.appendMessage(1001, first.sessionId, "assistant", "A key-value database.");
    await sessions.createSession(1001, "qwen2.5:1.5b-instruct-q4_K_M", first.sessionId);
    const other = await sessions.createSession(2002, "llama3.2:1b");
    await sessions.appendMessage(2002, other.sessionId, "user", "archived question");
    const archives = new ArchiveStore({ s3, bucket: emulators.bucketName });
    const session = (await sessions.getSession(2002, other.sessionId))!;
    await archives.put(buildArchive(session, await sessions.allMessages(2002, other.sessionId), new Date()));
    doc.destroy();
    (await s3()).destroy();
  });
  afterAll(() => emulators.stop());
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), "view-data-"));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  const runLocal = async (argv: string[]) => {
    mkdirSync(join(cwd, ".data"), { recursive: true });
    await writeEndpointsFile(join(cwd, ".data", "local-endpoints.json"), endpointsOf(emulators));
    const io = captureIo();
    const code = await main(["--local", ...argv], { io, cwd, env: {} });
    return { io, code };
  };

  it("summarises sessions and archives of the running local emulators", async () => {
    const { io, code } = await runLocal([]);
    expect(code).toBe(0);
    const out = io.out();
    expect(out).toContain("local (the running npm start");
    expect(out).toContain("2 users, 3 sessions, 3 messages");
    expect(out).toMatch(/user 1001: 2 sessions/);
    expect(out).toMatch(/▶ \w{8} {2}qwen2\.5:1\.5b-instruct-q4_K_M {2}0 messages/);
    expect(out).toMatch(/1 archive of 1 user/);
    expect(out).toMatch(/archives\/2002\/.*\.json {2}llama3\.2:1b {2}1 message/);
    expect(out).not.toContain("what is DynamoDB?");
  });

  it("shows every message and archived conversation with -v", async () => {
    const { io, code } = await runLocal(["-v"]);
    expect(code).toBe(0);
    expect(io.out()).toContain("what is DynamoDB?");
    expect(io.out()).toContain("A key-value database.");
    expect(io.out()).toContain("archived question");
  });

  it("shows one section and one user when asked", async () => {
    const { io, code } = await runLocal(["dynamodb", "--user", "2002"]);
    expect(code).toBe(0);
    expect(io.out()).toContain("1 user, 1 session, 1 message");
    expect(io.out()).not.toContain("S3 bucket");
  });

  it("reads the deployed stack's table and bucket from its outputs", async () => {
    const io = captureIo();
    const outputs = jest.fn(async () => new StackOutputs("ai-chatbot", "cdktf-outputs.json", { dynamodb_table_name: emulators.tableName, s3_bucket_name: emulators.bucketName }));
    const code = await main(["s3"], {
      io,
      cwd,
      outputs,
      credentials: emulators.credentials,
      env: { AWS_REGION: emulators.region, AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodbEndpoint, AWS_ENDPOINT_URL_S3: emulators.s3Endpoint, S3_FORCE_PATH_STYLE: "true" },
    });
    expect(code).toBe(0);
    expect(io.out()).toContain(`S3 bucket ${emulators.bucketName} (stack ai-chatbot, ${emulators.region})`);
    expect(io.out()).toContain("1 archive of 1 user");
  });

  it("says to run npm start first when there is no local data", async () => {
    const io = captureIo();
    const code = await main(["--local"], { io, cwd, env: {} });
    expect(code).toBe(1);
    expect(io.err()).toMatch(/no local data in .*run npm start first/);
  });

  it("rejects an unknown section with exit code 2", async () => {
    const io = captureIo();
    expect(await main(["sessions"], { io, cwd, env: {} })).toBe(2);
    expect(io.err()).toContain('unknown section "sessions"');
  });
});
