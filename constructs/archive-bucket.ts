import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { ARCHIVES_PREFIX, MODELS_PREFIX } from "../config/defaults";

/** Days a replaced model file is kept as a noncurrent version. */
const MODEL_NONCURRENT_DAYS = 7;
import type { Grantable } from "./service-role";
import { integerRule, patternRule, validateProps } from "./validation";

/** Props of {@link ArchiveBucket}. */
export interface ArchiveBucketProps {
  /** Bucket name, e.g. `chatbot-conversations-${accountId}` (may hold a Terraform reference). */
  readonly bucketName: string;
  /** Prefix of archived sessions; the lifecycle rule applies to it. @default ARCHIVES_PREFIX ("archives/") */
  readonly archivesPrefix?: string;
  /** Days before archives move to Standard-IA. @default 90 */
  readonly transitionToIaDays?: number;
  /** Days before archives move to Glacier. @default 180 */
  readonly transitionToGlacierDays?: number;
  /** Days before noncurrent object versions expire. @default 30 */
  readonly noncurrentVersionExpirationDays?: number;
  /** Let `cdktf destroy` delete a bucket that still holds objects. @default false */
  readonly forceDestroy?: boolean;
}

/**
 * The S3 bucket of archived sessions (archives/) and of the Ollama instance's model files
 * (models/): versioned, encrypted (SSE-S3), private, bucket-owner-enforced, TLS only, with
 * archives moving to cheaper storage as they age.
 */
export class ArchiveBucket extends Construct {
  public readonly bucket: S3Bucket;
  /** The bucket's name. */
  public readonly bucketName: string;
  /** The bucket's ARN. */
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);
    const archivesPrefix = props.archivesPrefix ?? ARCHIVES_PREFIX;
    const iaDays = props.transitionToIaDays ?? 90;
    const glacierDays = props.transitionToGlacierDays ?? 180;
    const noncurrentDays = props.noncurrentVersionExpirationDays ?? 30;
    validateProps("archive bucket", [
      patternRule("bucketName", props.bucketName, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an s3 bucket name (3-63 lowercase letters, digits, '.', '-')"),
      patternRule("archivesPrefix", archivesPrefix, /^[a-z0-9][a-z0-9_-]*\/$/, "a key prefix ending in '/'"),
      // Standard-IA needs objects at least 30 days old.
      integerRule("transitionToIaDays", iaDays, 30, 3650),
      integerRule("transitionToGlacierDays", glacierDays, iaDays + 30, 3650),
      integerRule("noncurrentVersionExpirationDays", noncurrentDays, 1, 3650),
    ]);

    this.bucket = new S3Bucket(this, "Bucket", { bucket: props.bucketName, forceDestroy: props.forceDestroy ?? false });
    this.bucketName = this.bucket.bucket;
    this.arn = this.bucket.arn;

    const versioning = new S3BucketVersioningA(this, "Versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "Encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "PublicAccessBlock", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "Ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketLifecycleConfiguration(this, "Lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "archive-tiering",
          status: "Enabled",
          filter: [{ prefix: archivesPrefix }],
          transition: [
            { days: iaDays, storageClass: "STANDARD_IA" },
            { days: glacierDays, storageClass: "GLACIER" },
          ],
          noncurrentVersionExpiration: [{ noncurrentDays }],
        },
        {
          // The Ollama instance syncs its model files here with --delete at every stop: without
          // this rule each replaced multi-GB model file would be kept forever as a noncurrent version.
          id: "model-versions",
          status: "Enabled",
          filter: [{ prefix: MODELS_PREFIX }],
          noncurrentVersionExpiration: [{ noncurrentDays: MODEL_NONCURRENT_DAYS }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
      // The provider's documentation asks for this ordering on versioned buckets.
      dependsOn: [versioning],
    });
    new S3BucketPolicy(this, "TlsOnlyPolicy", {
      bucket: this.bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
      // S3 rejects a bucket policy while the public access block is still being applied.
      dependsOn: [publicAccess],
    });
  }

  /**
   * Lets a grantee list, read, write and delete objects under one prefix (and nothing else).
   * @param prefix key prefix ending in "/". @default ARCHIVES_PREFIX
   */
  public grantReadWrite(grantee: Grantable, prefix: string = ARCHIVES_PREFIX): void {
    const words = prefix.replace(/[^A-Za-z0-9]/g, "");
    const sid = words.charAt(0).toUpperCase() + words.slice(1);
    grantee.grant({
      sid: `List${sid}`,
      actions: ["s3:ListBucket"],
      resources: [this.arn],
      condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
    });
    grantee.grant({
      sid: `ReadWrite${sid}`,
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      resources: [`${this.arn}/${prefix}*`],
    });
  }
}
