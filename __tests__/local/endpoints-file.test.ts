import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readEndpointsFile, removeEndpointsFile, writeEndpointsFile, type LocalEndpoints } from "../../local/endpoints-file";

describe("local endpoints file", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "endpoints-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const endpoints = (pid: number): LocalEndpoints => ({
    dynamodbEndpoint: "http://127.0.0.1:1",
    s3Endpoint: "http://127.0.0.1:2",
    tableName: "t",
    bucketName: "b",
    region: "us-east-1",
    pid,
  });

  it("round-trips while its process lives and is removed by its owner", async () => {
    const file = join(dir, "local-endpoints.json");
    await writeEndpointsFile(file, endpoints(process.pid));
    expect(await readEndpointsFile(file)).toEqual(endpoints(process.pid));
    await removeEndpointsFile(file);
    expect(existsSync(file)).toBe(false);
  });

  it("is ignored when its process is gone", async () => {
    const file = join(dir, "local-endpoints.json");
    await writeEndpointsFile(file, endpoints(4242));
    expect(await readEndpointsFile(file, () => false)).toBeUndefined();
  });

  it("is not removed by another process", async () => {
    const file = join(dir, "local-endpoints.json");
    await writeEndpointsFile(file, endpoints(4242));
    await removeEndpointsFile(file, process.pid);
    expect(existsSync(file)).toBe(true);
  });
});
