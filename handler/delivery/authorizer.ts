import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { TELEGRAM_SECRET_HEADER } from "../../config/defaults";
import type { Logger } from "../observability/log";
import { headerValue, secretsEqual } from "./authenticate";

/**
 * Queue mode's door: API Gateway's REQUEST authorizer, the same bundle exported as
 * `authorizer`. It lets a webhook request reach the queue only with the right secret in
 * X-Telegram-Bot-Api-Secret-Token (a constant-time comparison), so nothing forged is ever
 * queued; API Gateway caches the answer per header value, and refuses a request without the
 * header itself, without invoking anything. Without a configured secret it fails closed:
 * every request is denied. The secret is never logged (only whether it matched).
 */

/** The principal an allowed request runs as (API Gateway requires one). */
export const AUTHORIZER_PRINCIPAL = "telegram";

/** The authorizer's signature. */
export type Authorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** An IAM policy that allows or denies invoking `methodArn`. Pure. */
export function invokePolicy(effect: "Allow" | "Deny", methodArn: string): APIGatewayAuthorizerResult {
  return {
    principalId: AUTHORIZER_PRINCIPAL,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: methodArn }],
    },
  };
}

/**
 * Creates the authorizer for `expectedSecret` (undefined or blank: deny everything, and say so
 * once, at ERROR, when it is created: a broken deploy pages someone).
 */
export function createAuthorizer(expectedSecret: string | undefined, log: Logger): Authorizer {
  const secret = expectedSecret?.trim() ? expectedSecret : undefined;
  if (!secret) {
    log.error("TELEGRAM_SECRET_TOKEN is not set: every webhook request is denied", undefined, {
      action: "load_config",
      outcome: "failure",
      variable: "TELEGRAM_SECRET_TOKEN",
    });
  }
  return async (event) => {
    const received = headerValue(event, TELEGRAM_SECRET_HEADER);
    const allowed = secret !== undefined && received !== undefined && secretsEqual(received, secret);
    if (!allowed) {
      log.warn("webhook request denied: no or wrong secret token", {
        action: "check_secret",
        outcome: "failure",
        request_id: event.requestContext?.requestId,
        secret_present: received !== undefined,
      });
    }
    return invokePolicy(allowed ? "Allow" : "Deny", event.methodArn);
  };
}
