/**
 * One invocation of the Lambda entry point (handler/index.ts) in a process of its own, as Lambda
 * runs it: the environment holds the function's settings, FUNCTION_EVENT the event's JSON. It
 * prints `FUNCTION_RESULT <json>` and exits. The crash tests kill this process part-way through.
 */
import { handler } from "../../handler/index";

const event = JSON.parse(process.env.FUNCTION_EVENT ?? "{}") as Parameters<typeof handler>[0];
const deadline = Date.now() + Number(process.env.FUNCTION_TIMEOUT_MS ?? 30_000);
const context = {
  awsRequestId: `crash-test-${process.pid}`,
  functionName: "telegram-bot-test",
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
} as unknown as Parameters<typeof handler>[1];

handler(event, context).then(
  (result) => process.stdout.write(`FUNCTION_RESULT ${JSON.stringify(result)}\n`, () => process.exit(0)),
  (error: unknown) => {
    process.stderr.write(`function driver: the handler rejected: ${error instanceof Error ? error.name : String(error)}\n`);
    process.exit(1);
  },
);
