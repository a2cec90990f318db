import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import type { S3ClientFactory } from "./archives";
import type { BotConfig } from "../config";
import { DocumentClient } from "./document-client";

/** Static AWS credentials (local emulators, tests); in AWS the SDK's default chain is used. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Of temporary credentials (a role's, as Lambda has). @default - none */
  readonly sessionToken?: string;
}

/**
 * The DynamoDB document client for a config: region and endpoint come from the config, not
 * from the SDK reading the environment, so a config object alone decides where data goes.
 * The SDK resolves each command's middleware once (cacheMiddleware; see DocumentClient), and
 * every request is signed by one SigV4 signer: left to itself the SDK builds a new signer for
 * each request from a copy of its whole config (some 50 settings), about 5% of a request's CPU.
 * It signs for the config's region and the "dynamodb" service, as the SDK's own would; the SDK
 * still hands it each request's date (with clock-skew correction), and it asks the client's
 * current credential provider for the credentials on every signature.
 */
export function createDocumentClient(config: BotConfig, credentials?: StaticCredentials): DocumentClient {
  let signer: SignatureV4 | undefined;
  const client: DynamoDBClient = new DynamoDBClient({
    region: config.region,
    cacheMiddleware: true,
    signer: () => {
      signer ??= new SignatureV4({ credentials: () => client.config.credentials(), region: config.region, service: "dynamodb", sha256: client.config.sha256 });
      return Promise.resolve(signer);
    },
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
    ...(credentials ? { credentials: { ...credentials } } : {}),
  });
  return new DocumentClient({ client });
}

/**
 * A factory of the S3 client that builds it on first call and caches it: updates that never
 * touch an archive never build one. The S3 SDK itself is imported statically, not with a
 * dynamic import(): esbuild drops unused code only from statically imported modules, and a
 * lazily evaluated S3 SDK kept 100 KB more in the bundle, costing every cold start more to
 * compile than evaluating the S3 module costs (`npm run bench` measured both).
 */
export function createS3ClientFactory(config: BotConfig, credentials?: StaticCredentials): S3ClientFactory {
  let client: S3Client | undefined;
  return () => {
    client ??= new S3Client({
      region: config.region,
      forcePathStyle: config.s3ForcePathStyle,
      ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
      ...(credentials ? { credentials: { ...credentials } } : {}),
    });
    return Promise.resolve(client);
  };
}
