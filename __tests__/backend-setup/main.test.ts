import { Testing } from "cdktf";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { BackendSetupStack } from "../../backend-setup/main";
import { onlyResource, parseTf } from "../support/terraform-json";
import "../support/cdktf-setup";

describe("backend-setup", () => {
  const json = Testing.synth(new BackendSetupStack(Testing.app(), "backend-setup", { region: "eu-west-1" }));
  const tf = parseTf(json);

  it("creates terraform-state-<account>, which Terraform refuses to destroy", () => {
    expect(onlyResource(tf, "aws_s3_bucket")).toMatchObject({
      bucket: "terraform-state-${data.aws_caller_identity.current.account_id}",
      lifecycle: { prevent_destroy: true },
    });
  });

  it("versions, encrypts and blocks public access to the state bucket", () => {
    expect(json).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(json).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    expect(json).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("creates the terraform-locks table keyed by LockID", () => {
    expect(json).toHaveResourceWithProperties(DynamodbTable, {
      name: "terraform-locks",
      hash_key: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      billing_mode: "PAY_PER_REQUEST",
    });
  });

  it("keeps its own state locally and outputs the backend settings", () => {
    expect(JSON.stringify(tf.terraform)).not.toContain('"s3"');
    expect(tf.output?.backend_config.value).toMatchObject({
      STATE_KEY: "ai-chatbot/terraform.tfstate",
      STATE_REGION: "eu-west-1",
      STATE_LOCKING: "dynamodb",
    });
  });
});
