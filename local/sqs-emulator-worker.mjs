/**
 * fauxqs, the SQS emulator, listening on loopback inside a worker thread; started and stopped by
 * local/sqs-emulator.ts, which does everything else over fauxqs's own HTTP API.
 *
 * Why a worker and plain JavaScript: fauxqs ships only ES modules (its package exports the
 * `import` condition alone), which neither the project's CommonJS `require` nor Jest's module
 * runtime can load in-process on Node 20; a worker thread runs real Node ESM beside them.
 * Why `buildApp` and not `startFauxqs`: the latter always listens on 0.0.0.0, and local mode
 * keeps every emulator on loopback.
 *
 * workerData: { host: string, port: number, region: string }. Posts { address } once listening
 * ("http://127.0.0.1:<port>"); on any message it closes the server (its long polls answered
 * empty, connections closed) and lets the thread end.
 */
import { parentPort, workerData } from "node:worker_threads";
import { buildApp } from "fauxqs";

const app = buildApp({ logger: false, defaultRegion: workerData.region });
const address = await app.listen({ port: workerData.port, host: workerData.host });
parentPort.postMessage({ address });
parentPort.once("message", () => {
  void app.close().finally(() => parentPort.close());
});
