import { App, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { STACK_DEFAULTS, loadStackConfig } from "../config/stack-config";

/** Props of {@link BackendSetupStack}. */
export interface BackendSetupStackProps {
  /** Region of the state bucket and lock table. @default the stack configuration's region */
  readonly region: string;
  /** Prefix of the state bucket; the account id is appended. @default "terraform-state" */
  readonly bucketPrefix?: string;
  /** Lock table name. @default "terraform-locks" */
  readonly lockTable?: string;
  /** State key the main stack uses. @default "ai-chatbot/terraform.tfstate" */
  readonly stateKey?: string;
}

/**
 * The remote state's own infrastructure, on local state: a versioned, encrypted, private S3
 * bucket terraform-state-<account> that Terraform refuses to destroy, and the DynamoDB lock
 * table (LockID). Its outputs are the settings to give the main stack (STATE_BUCKET...).
 */
export class BackendSetupStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: BackendSetupStackProps) {
    super(scope, id);
    const lockTableName = props.lockTable ?? STACK_DEFAULTS.stateLockTable;
    const stateKey = props.stateKey ?? STACK_DEFAULTS.stateKey;
    // No backend: cdktf keeps local state in backend-setup/terraform.backend-setup.tfstate.
    new AwsProvider(this, "aws", {
      region: props.region,
      defaultTags: [{ tags: { Project: STACK_DEFAULTS.projectName, Component: "terraform-state", ManagedBy: "cdktf" } }],
    });
    const caller = new DataAwsCallerIdentity(this, "current");

    const bucket = new S3Bucket(this, "StateBucket", {
      bucket: `${props.bucketPrefix ?? "terraform-state"}-${caller.accountId}`,
      lifecycle: { preventDestroy: true },
    });
    new S3BucketVersioningA(this, "StateBucketVersioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "StateBucketEncryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketPublicAccessBlock(this, "StateBucketPublicAccessBlock", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const locks = new DynamodbTable(this, "LockTable", {
      name: lockTableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      serverSideEncryption: { enabled: true },
    });

    new TerraformOutput(this, "state_bucket", { value: bucket.bucket });
    new TerraformOutput(this, "lock_table", { value: locks.name });
    new TerraformOutput(this, "backend_config", {
      description: "Settings of the main stack's S3 backend (export them before cdktf deploy)",
      value: {
        STATE_BUCKET: bucket.bucket,
        STATE_KEY: stateKey,
        STATE_REGION: props.region,
        STATE_LOCK_TABLE: locks.name,
        // dynamodb: any Terraform; lockfile: Terraform >= 1.10 (use_lockfile); both while migrating.
        STATE_LOCKING: "dynamodb",
      },
    });
  }
}

/** Synthesizes the backend-setup stack in the region of the stack configuration. */
export function main(): void {
  let region: string;
  try {
    region = loadStackConfig().region;
  } catch (error) {
    console.error(`cannot synthesize: ${(error as Error).message}`);
    process.exit(1);
  }
  const app = new App();
  new BackendSetupStack(app, "backend-setup", { region });
  app.synth();
}

if (require.main === module) main();
