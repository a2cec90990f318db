import { Testing, TerraformStack } from "cdktf";
import { StateBackend } from "../../constructs/state-backend";
import { parseTf } from "../support/terraform-json";

function backendOf(locking: "dynamodb" | "lockfile" | "both"): Record<string, unknown> {
  const stack = new TerraformStack(Testing.app(), "s");
  new StateBackend(stack, { bucket: "terraform-state-123456789012", key: "ai-chatbot/terraform.tfstate", region: "us-east-1", locking, lockTable: "terraform-locks" });
  return (parseTf(Testing.synth(stack)).terraform as { backend: { s3: Record<string, unknown> } }).backend.s3;
}

describe("StateBackend", () => {
  it("stores encrypted state in S3 and locks with DynamoDB by default", () => {
    expect(backendOf("dynamodb")).toEqual({
      bucket: "terraform-state-123456789012",
      key: "ai-chatbot/terraform.tfstate",
      region: "us-east-1",
      encrypt: true,
      dynamodb_table: "terraform-locks",
    });
  });

  it("locks with an S3 lock file through the use_lockfile override", () => {
    const backend = backendOf("lockfile");
    expect(backend.use_lockfile).toBe(true);
    expect(backend.dynamodb_table).toBeUndefined();
  });

  it("uses both while migrating", () => {
    expect(backendOf("both")).toMatchObject({ use_lockfile: true, dynamodb_table: "terraform-locks" });
  });

  it("fails if the bucket is not an S3 name", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    expect(() => new StateBackend(stack, { bucket: "Bad Bucket", key: "k", region: "us-east-1", locking: "dynamodb", lockTable: "t" })).toThrow(
      /state backend: invalid bucket: got "Bad Bucket"/,
    );
  });
});
