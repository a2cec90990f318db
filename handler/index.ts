import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { createHandler } from "./app";
import { buildDeps } from "./deps";
import { loadConfig } from "./config";
import { isObservabilityTestEvent, runObservabilityTest, type ObservabilityTestEvent } from "./observability/observability-test";

/*
 * Configuration is read once at cold start; the clients are built once and reused by warm
 * invocations.
 */
const config = loadConfig(process.env);
const deps = buildDeps(config);
const webhook = createHandler(config, deps);

/**
 * The Lambda entry point (handler setting `index.handler`): an API Gateway REST proxy event
 * in, a proxy result out. A direct invocation with the observability test payload writes one
 * ERROR line instead (see observability-test.ts).
 */
export async function handler(
  event: APIGatewayProxyEvent | ObservabilityTestEvent,
  context?: Context,
): Promise<APIGatewayProxyResult | { ok: true }> {
  if (isObservabilityTestEvent(event)) return runObservabilityTest(event, deps.logger);
  return webhook(event, context);
}
