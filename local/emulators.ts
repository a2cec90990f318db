/**
 * DynamoDB (dynalite) and S3 (s3rver) on loopback, with the sessions table and the
 * archive bucket created. Used by `npm start`, the integration tests and the benchmark,
 * so all three run the handler against the same stores without AWS.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import dynalite from "dynalite";
import S3rver from "s3rver";
import { createTableInput, DEFAULT_TABLE_NAME } from "../config/table-schema";

/** Default name of the local archive bucket. */
export const DEFAULT_LOCAL_BUCKET_NAME = "chatbot-conversations-local";

/**
 * Credentials both emulators accept: s3rver checks signatures made with exactly these; dynalite
 * accepts any. Not frozen: the AWS SDK tags the credentials object it is given, so pass a copy.
 */
export const EMULATOR_CREDENTIALS: { readonly accessKeyId: string; readonly secretAccessKey: string } = {
  accessKeyId: "S3RVER",
  secretAccessKey: "S3RVER",
};

/** How to start the emulators. */
export interface EmulatorOptions {
  /**
   * Folder that keeps the data between runs: dynalite stores in `<dataDir>/dynamodb`,
   * s3rver in `<dataDir>/s3`. Created when missing.
   * @default - dynalite in memory and s3rver in a temporary folder removed by stop()
   */
  readonly dataDir?: string;
  /** Address both servers bind. @default "127.0.0.1" */
  readonly host?: string;
  /** DynamoDB port; 0 picks a free one. @default 0 */
  readonly dynamodbPort?: number;
  /** S3 port; 0 picks a free one. @default 0 */
  readonly s3Port?: number;
  /** Sessions table name. @default DEFAULT_TABLE_NAME ("chatbot-sessions") */
  readonly tableName?: string;
  /** Archive bucket name. @default "chatbot-conversations-local" */
  readonly bucketName?: string;
  /** Region the clients sign for. @default "us-east-1" */
  readonly region?: string;
}

/** Emulators that are listening, with everything a client needs to reach them. */
export interface RunningEmulators {
  /** "http://<host>:<port>" of dynalite. */
  readonly dynamodbEndpoint: string;
  /** "http://<host>:<port>" of s3rver (path-style addressing). */
  readonly s3Endpoint: string;
  readonly tableName: string;
  readonly bucketName: string;
  readonly region: string;
  /** Credentials both emulators accept (s3rver only takes S3RVER/S3RVER). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /**
   * The environment the handler needs to use these emulators: AWS_ENDPOINT_URL_DYNAMODB,
   * AWS_ENDPOINT_URL_S3, S3_FORCE_PATH_STYLE="true", AWS_REGION, AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY, DYNAMODB_TABLE, S3_BUCKET_NAME.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Closes both servers (and their open connections) and removes a temporary folder; idempotent. */
  stop(): Promise<void>;
}

/** Starts dynalite and s3rver, then creates the table and the bucket unless they exist already. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<RunningEmulators> {
  const host = options.host ?? "127.0.0.1";
  const region = options.region ?? "us-east-1";
  const tableName = options.tableName ?? DEFAULT_TABLE_NAME;
  const bucketName = options.bucketName ?? DEFAULT_LOCAL_BUCKET_NAME;
  const credentials = { ...EMULATOR_CREDENTIALS };

  let dynamoPath: string | undefined;
  let s3Directory: string;
  let temporaryDir: string | undefined;
  if (options.dataDir === undefined) {
    temporaryDir = await mkdtemp(join(tmpdir(), "chatbot-s3-"));
    s3Directory = temporaryDir;
  } else {
    dynamoPath = join(options.dataDir, "dynamodb");
    s3Directory = join(options.dataDir, "s3");
    await mkdir(dynamoPath, { recursive: true });
    await mkdir(s3Directory, { recursive: true });
  }

  const closers: (() => Promise<void>)[] = [];
  if (temporaryDir !== undefined) {
    const dir = temporaryDir;
    closers.push(() => rm(dir, { recursive: true, force: true }));
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    // Close in reverse order of start (servers before their folder); every closer runs even when one fails.
    stopping ??= (async () => {
      let firstError: unknown;
      for (const close of [...closers].reverse()) {
        await close().catch((error: unknown) => {
          firstError ??= error;
        });
      }
      if (firstError !== undefined) throw firstError;
    })();
    return stopping;
  };

  try {
    const dynamoServer = dynalite({ path: dynamoPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const dynamoPort = await listen(dynamoServer, options.dynamodbPort ?? 0, host);
    closers.push(() => closeServer(dynamoServer));

    const s3 = new S3rver({
      address: host,
      port: options.s3Port ?? 0,
      directory: s3Directory,
      silent: true,
      vhostBuckets: false,
    });
    const s3Address = await s3.run();
    closers.push(() => (s3.httpServer ? closeServer(s3.httpServer) : Promise.resolve()));

    const urlHost = host.includes(":") ? `[${host}]` : host;
    const dynamodbEndpoint = `http://${urlHost}:${dynamoPort}`;
    const s3Endpoint = `http://${urlHost}:${s3Address.port}`;

    await ensureTable(new DynamoDBClient({ endpoint: dynamodbEndpoint, region, credentials: { ...credentials } }), tableName);
    await ensureBucket(new S3Client({ endpoint: s3Endpoint, region, credentials: { ...credentials }, forcePathStyle: true }), bucketName);

    const env = Object.freeze({
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      AWS_ENDPOINT_URL_S3: s3Endpoint,
      S3_FORCE_PATH_STYLE: "true",
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      DYNAMODB_TABLE: tableName,
      S3_BUCKET_NAME: bucketName,
    });
    return { dynamodbEndpoint, s3Endpoint, tableName, bucketName, region, credentials, env, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** Listens on port (0 = free) and host; resolves to the bound port. */
function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes a server and drops its keep-alive connections, which SDK clients leave open. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/**
 * Creates the sessions table from the shared schema unless it exists. dynalite does not
 * implement UpdateTimeToLive, so the TTL attribute is not enabled locally (items simply
 * never expire); in AWS the SessionsTable construct enables it.
 */
async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
      return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (error) {
      // A parallel start on the same data folder may have created it first.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === "ACTIVE") return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`table ${tableName} did not become ACTIVE in dynalite`);
  } finally {
    client.destroy();
  }
}

/** Creates the archive bucket unless it exists. */
async function ensureBucket(client: S3Client, bucketName: string): Promise<void> {
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucketName }));
      return;
    } catch (error) {
      if (!(error instanceof S3ServiceException) || error.$metadata.httpStatusCode !== 404) throw error;
    }
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucketName }));
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw error;
    }
  } finally {
    client.destroy();
  }
}
