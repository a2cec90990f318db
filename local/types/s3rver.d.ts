/** The part of s3rver's API that local/emulators.ts uses (the package ships no types). */
declare module "s3rver" {
  import type { AddressInfo } from "node:net";

  /** Options of the S3rver constructor (only those we set). */
  interface S3rverOptions {
    /** Host to bind; default "localhost". */
    address?: string;
    /** Port to bind, 0 = a free one; default 4568. */
    port?: number;
    /** Folder holding buckets and objects; default <tmpdir>/s3rver. */
    directory?: string;
    /** No request logging when true; default false. */
    silent?: boolean;
    /** Delete all buckets when the server closes; default false. */
    resetOnClose?: boolean;
    /** Accept requests signed with other credentials than S3RVER/S3RVER; default false. */
    allowMismatchedSignatures?: boolean;
    /** Treat the first label of the Host header as a bucket name; default true. */
    vhostBuckets?: boolean;
  }

  /** An S3-compatible server. */
  class S3rver {
    constructor(options?: S3rverOptions);
    /** Starts listening; resolves to the bound address. */
    run(): Promise<AddressInfo>;
    /** Stops the HTTP server. */
    close(): Promise<void>;
    /** The underlying HTTP server once running. */
    readonly httpServer: import("node:http").Server | undefined;
  }
  export = S3rver;
}
