import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { S3ClientFactory } from "./archives";
import type { BotConfig } from "./config";

/** Static AWS credentials (local emulators); in AWS the SDK's default chain is used. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * The DynamoDB document client for a config: region and endpoint come from the config, not
 * from the SDK reading the environment, so a config object alone decides where data goes.
 */
export function createDocumentClient(config: BotConfig, credentials?: StaticCredentials): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
    ...(credentials ? { credentials: { ...credentials } } : {}),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * A factory of the S3 client that loads @aws-sdk/client-s3 on first call and caches the
 * client: updates that never touch an archive never load the S3 SDK.
 */
export function createS3ClientFactory(config: BotConfig, credentials?: StaticCredentials): S3ClientFactory {
  let client: ReturnType<S3ClientFactory> | undefined;
  return () => {
    client ??= import("@aws-sdk/client-s3").then(
      ({ S3Client }) =>
        new S3Client({
          region: config.region,
          forcePathStyle: config.s3ForcePathStyle,
          ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
          ...(credentials ? { credentials: { ...credentials } } : {}),
        }),
      (err: unknown) => {
        client = undefined;
        throw err;
      },
    );
    return client;
  };
}
