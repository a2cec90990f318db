import { Testing, TerraformStack } from "cdktf";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { ArchiveBucket } from "../../constructs/archive-bucket";
import { ServiceRole } from "../../constructs/service-role";
import { onlyResource } from "../support/terraform-json";
import "../support/cdktf-setup";

function synthBucket(props: Partial<ConstructorParameters<typeof ArchiveBucket>[2]> = {}): string {
  return Testing.synthScope((scope) => {
    new ArchiveBucket(scope, "Bucket", { bucketName: "chatbot-conversations-123456789012", ...props });
  });
}

describe("ArchiveBucket", () => {
  it("versions, encrypts with AES256 and enforces bucket-owner ownership", () => {
    const json = synthBucket();
    expect(json).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(json).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }],
    });
    expect(json).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: "BucketOwnerEnforced" } });
  });

  it("blocks all four kinds of public access", () => {
    expect(synthBucket()).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("moves archives/ to Standard-IA after 90 days and Glacier after 180 (noncurrent versions expire after 30), and expires replaced model files after 7", () => {
    expect(synthBucket()).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [
        {
          id: "archive-tiering",
          filter: [{ prefix: "archives/" }],
          status: "Enabled",
          transition: [
            { days: 90, storage_class: "STANDARD_IA" },
            { days: 180, storage_class: "GLACIER" },
          ],
          noncurrent_version_expiration: [{ noncurrent_days: 30 }],
        },
        {
          id: "model-versions",
          filter: [{ prefix: "models/" }],
          status: "Enabled",
          noncurrent_version_expiration: [{ noncurrent_days: 7 }],
          abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }],
        },
      ],
    });
  });

  it("denies every request that does not use TLS", () => {
    const policy = JSON.parse(onlyResource(JSON.parse(synthBucket()), "aws_s3_bucket_policy").policy as string);
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    ]);
    expect(policy.Statement[0].Resource).toHaveLength(2);
  });

  it("grants read and write under one prefix only", () => {
    const stack = new TerraformStack(Testing.app(), "grant");
    const bucket = new ArchiveBucket(stack, "Bucket", { bucketName: "chatbot-conversations-123456789012" });
    const role = new ServiceRole(stack, "Role", { roleName: "r", servicePrincipal: "lambda.amazonaws.com" });
    bucket.grantReadWrite(role, "models/");
    const [list, readWrite] = role.grantedStatements;
    expect(list.actions).toEqual(["s3:ListBucket"]);
    expect(list.condition).toEqual({ StringLike: { "s3:prefix": ["models/*"] } });
    expect(readWrite.resources).toEqual([`${bucket.arn}/models/*`]);
  });

  it("fails if the bucket name is not a valid S3 name", () => {
    expect(() => synthBucket({ bucketName: "Chatbot_Conversations" })).toThrow(/invalid bucketName: got "Chatbot_Conversations"/);
  });

  it("fails if Glacier comes less than 30 days after Standard-IA", () => {
    expect(() => synthBucket({ transitionToIaDays: 90, transitionToGlacierDays: 100 })).toThrow(
      /invalid transitionToGlacierDays: got 100; allowed: a whole number from 120/,
    );
  });
});
