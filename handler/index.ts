import { createHandler } from "./app";
import { loadConfig } from "./config";

/**
 * The Lambda entry point (handler setting `index.handler`): an API Gateway REST proxy event
 * in, a proxy result out. Configuration is read once at cold start; the clients are built once
 * and reused by warm invocations.
 */
export const handler = createHandler(loadConfig(process.env));
