import { S3Backend } from "cdktf";
import type { Construct } from "constructs";
import type { StateBackendConfig } from "../config/stack-config";
import { oneOfRule, patternRule, validateProps } from "./validation";

/**
 * Remote state: the S3 backend (bucket terraform-state-<account>, made by backend-setup/),
 * encrypted, with locking by the DynamoDB lock table (any Terraform; deprecated since 1.11),
 * by S3-native lock files (`use_lockfile`, Terraform >= 1.10), or both while migrating.
 * cdktf 0.21's S3Backend has no prop for use_lockfile, so it is set by an override.
 * Without it the stack keeps local state.
 */
export class StateBackend extends S3Backend {
  /** The settings this backend was made with. */
  public readonly settings: StateBackendConfig;

  constructor(scope: Construct, settings: StateBackendConfig) {
    validateProps("state backend", [
      patternRule("bucket", settings.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "an s3 bucket name"),
      patternRule("key", settings.key, /^[^/\s]\S*$/, "an object key without spaces or a leading slash"),
      oneOfRule("locking", settings.locking, ["dynamodb", "lockfile", "both"]),
    ]);
    const useTable = settings.locking === "dynamodb" || settings.locking === "both";
    super(scope, {
      bucket: settings.bucket,
      key: settings.key,
      region: settings.region,
      encrypt: true,
      ...(useTable ? { dynamodbTable: settings.lockTable } : {}),
    });
    if (settings.locking === "lockfile" || settings.locking === "both") {
      this.addOverride("use_lockfile", true);
    }
    this.settings = settings;
  }
}
