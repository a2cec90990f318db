import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createBot, type Bot } from "./app";
import { loadConfig } from "./config";
import { buildDeps, defaultLogger } from "./deps";
import { createAuthorizer, type Authorizer } from "./delivery/authorizer";
import { isSqsEvent } from "./delivery/sqs";
import { isObservabilityTestEvent, runObservabilityTest, type ObservabilityTestEvent } from "./observability/observability-test";

/*
 * One bundle, two Lambda functions: the bot (`index.handler`) and, in queue mode, the webhook's
 * authorizer (`index.authorizer`). Each builds what it needs once, on its first invocation, and
 * warm invocations reuse it; the authorizer never builds the bot's clients, and the bot never
 * the authorizer.
 */
const config = loadConfig(process.env);
let bot: { readonly bot: Bot; readonly deps: ReturnType<typeof buildDeps> } | undefined;
let auth: Authorizer | undefined;

function botOf() {
  if (!bot) {
    const deps = buildDeps(config);
    bot = { bot: createBot(config, deps), deps };
  }
  return bot;
}

/**
 * The bot's entry point (handler setting `index.handler`): an API Gateway REST proxy event in,
 * a proxy result out (sync mode); a batch of SQS records in, the records to deliver again out
 * (queue mode). A direct invocation with the observability test payload writes one ERROR line
 * instead (see observability/observability-test.ts).
 */
export async function handler(
  event: APIGatewayProxyEvent | SQSEvent | ObservabilityTestEvent,
  context?: Context,
): Promise<APIGatewayProxyResult | SQSBatchResponse | { ok: true }> {
  const { bot: running, deps } = botOf();
  if (isObservabilityTestEvent(event)) return runObservabilityTest(event, deps.logger);
  if (isSqsEvent(event)) return running.consume(event, context);
  return running.webhook(event as APIGatewayProxyEvent, context);
}

/** The webhook's REQUEST authorizer in queue mode (handler setting `index.authorizer`). */
export async function authorizer(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  auth ??= createAuthorizer(config.telegramSecretToken, defaultLogger(config));
  return auth(event);
}
