/** The part of dynalite's API that local/emulators.ts uses (the package ships no types). */
declare module "dynalite" {
  import type { Server } from "node:http";

  /** Options of dynalite's factory (only those we set). */
  interface DynaliteOptions {
    /** LevelDB folder; omitted = in memory. */
    path?: string;
    /** Milliseconds a new table stays CREATING; default 500. */
    createTableMs?: number;
    /** Milliseconds a deleted table stays DELETING; default 500. */
    deleteTableMs?: number;
    /** Milliseconds an updated table stays UPDATING; default 500. */
    updateTableMs?: number;
  }

  /** Creates a DynamoDB-compatible HTTP server; call `.listen(port, host)` on it. */
  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
