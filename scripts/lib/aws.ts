/**
 * AWS helpers of the scripts: which region to talk to and how to explain an SDK failure in one
 * line the operator can act on (missing credentials, expired session, missing permission).
 */
import { loadStackConfig } from "../../config/stack-config";
import { CliError } from "./cli";
import { OUTPUT_NAMES, type StackOutputs } from "./stack-outputs";

/** The region of the deployed stack: its `region` output, else the stack configuration's (AWS_REGION...). */
export function stackRegion(outputs: StackOutputs | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return outputs?.get(OUTPUT_NAMES.region) ?? loadStackConfig({ env }).region;
}

const CREDENTIAL_ERRORS = new Set(["CredentialsProviderError", "ProviderError", "TokenProviderError"]);
const EXPIRED_ERRORS = new Set(["ExpiredToken", "ExpiredTokenException", "RequestExpired"]);
const INVALID_ERRORS = new Set(["UnrecognizedClientException", "InvalidClientTokenId", "SignatureDoesNotMatch", "AuthFailure", "InvalidAccessKeyId"]);
const DENIED_ERRORS = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"]);
const MISSING_ERRORS = new Set(["ResourceNotFoundException", "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed", "NoSuchBucket"]);

/**
 * Turns an AWS SDK error into a CliError whose message says what to do. `operation` names the
 * step, e.g. "ec2 DescribeInstances". Errors that are not the SDK's pass through unchanged.
 */
export function explainAwsError(error: unknown, operation: string): unknown {
  if (!(error instanceof Error)) return error;
  const name = error.name;
  if (CREDENTIAL_ERRORS.has(name) || /could not load credentials/i.test(error.message)) {
    return new CliError(
      `${operation}: no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS Academy: paste the lab's credentials into ~/.aws/credentials)`,
      1,
      { cause: error },
    );
  }
  if (EXPIRED_ERRORS.has(name)) {
    return new CliError(`${operation}: the AWS session has expired; refresh your credentials (AWS Academy: restart the lab and copy them again)`, 1, { cause: error });
  }
  if (INVALID_ERRORS.has(name)) {
    return new CliError(`${operation}: AWS rejected the credentials (${name}); check AWS_PROFILE / AWS_ACCESS_KEY_ID`, 1, { cause: error });
  }
  if (DENIED_ERRORS.has(name)) {
    return new CliError(`${operation}: access denied; the credentials lack this permission (${error.message})`, 1, { cause: error });
  }
  if (MISSING_ERRORS.has(name)) {
    return new CliError(`${operation}: ${error.message}; is the stack deployed in this account and region?`, 1, { cause: error });
  }
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (metadata !== undefined) {
    return new CliError(`${operation} failed: ${name}: ${error.message}`, 1, { cause: error });
  }
  return error;
}

/** Runs an AWS call and rethrows its failure explained by {@link explainAwsError}. */
export async function awsCall<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainAwsError(error, operation);
  }
}
