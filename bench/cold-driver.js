/**
 * Cold-start driver for `npm run bench` (plain CommonJS, run by bare node, no tsx): loads
 * the bundle given as argv[2] in this fresh process, feeds it the proxy event in the
 * BENCH_EVENT environment variable, and prints one line
 *   BENCH_COLD {"bootMs":..,"loadMs":..,"firstUpdateMs":..,"statusCode":..}
 * bootMs: from process start to this script running (what bare node costs);
 * loadMs: require() of the bundle, which builds the handler from the environment;
 * firstUpdateMs: the first invocation, from call to resolved result.
 */
"use strict";
const { performance } = require("node:perf_hooks");

const bootMs = performance.now();
const bundle = process.argv[2];
const event = JSON.parse(process.env.BENCH_EVENT || "{}");
const timeoutMs = 30000;
const deadline = Date.now() + timeoutMs;
const context = {
  awsRequestId: "bench-cold-start",
  functionName: "telegram-bot-bench",
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};

const beforeLoad = performance.now();
const { handler } = require(bundle);
const loaded = performance.now();
Promise.resolve(handler(event, context)).then(
  (result) => {
    const answered = performance.now();
    const line = { bootMs, loadMs: loaded - beforeLoad, firstUpdateMs: answered - loaded, statusCode: result && result.statusCode };
    process.stdout.write(`BENCH_COLD ${JSON.stringify(line)}\n`, () => process.exit(0));
  },
  (error) => {
    process.stderr.write(`cold driver: the handler rejected: ${error && error.name}\n`);
    process.exit(1);
  },
);
