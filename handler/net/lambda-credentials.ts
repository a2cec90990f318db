/**
 * The AWS credential chain of the Lambda bundle. tsup substitutes this module for
 * `@aws-sdk/credential-provider-node` (see tsup.config.ts): Lambda always hands the function
 * its role's credentials in environment variables, so the SDK's full default chain (SSO, INI
 * files, process, web identity, IMDS and the STS/SSO clients they need, about 90 KB minified)
 * would only add bundle size and load time. Local mode and the tests give the bundle the
 * emulators' static keys the same way. Outside the bundle (tests, scripts) the SDK keeps its own chain.
 */

/** The identity the SDK signs requests with. */
export interface EnvironmentCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Reads the credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. */
export function credentialsFromEnvironment(env: NodeJS.ProcessEnv = process.env): EnvironmentCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the function's role)",
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/** Drop-in for `defaultProvider` of @aws-sdk/credential-provider-node: a provider reading the environment. */
export function defaultProvider(): () => Promise<EnvironmentCredentials> {
  return async () => credentialsFromEnvironment();
}
