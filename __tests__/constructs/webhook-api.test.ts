import { ApiGatewayIntegration } from "@cdktf/provider-aws/lib/api-gateway-integration";
import { ApiGatewayRestApi } from "@cdktf/provider-aws/lib/api-gateway-rest-api";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { BotFunction } from "../../constructs/bot-function";
import { UpdateQueue } from "../../constructs/update-queue";
import { WebhookApi, type WebhookApiProps } from "../../constructs/webhook-api";
import { AUTHORIZER_CACHE_SECONDS } from "../../constructs/webhook-api/queue-integration";
import { QUEUE_REQUEST_TEMPLATE } from "../../constructs/webhook-api/queue-request-template";
import { WebhookAuthorizer } from "../../constructs/webhook-authorizer";
import { botFunctionProps, synthWith } from "../support/infra";
import { onlyResource, resourcesOf, type TerraformJson } from "../support/terraform-json";

function synthApi(props: Partial<Omit<WebhookApiProps, "fn">> = {}): TerraformJson {
  return synthWith((scope, deps) => {
    const fn = new BotFunction(scope, "Fn", botFunctionProps(deps, { deliveryMode: props.deliveryMode }));
    const queued = (props.deliveryMode ?? "queue") === "queue";
    const queue = queued ? new UpdateQueue(scope, "Queue", { fn }) : undefined;
    const authorizer = queued ? new WebhookAuthorizer(scope, "Authorizer", { fn, webhookSecret: "${random_password.webhook.result}" }) : undefined;
    new WebhookApi(scope, "Api", { fn, queue, authorizer, region: "us-east-1", ...props });
  });
}

const idOf = (tf: TerraformJson, type: string, match: (r: Record<string, unknown>) => boolean = () => true): string =>
  Object.entries(resourcesOf(tf, type)).find(([, r]) => match(r))?.[0] ?? "(none)";

describe("WebhookApi", () => {
  it("is a REGIONAL REST API with POST /webhook", () => {
    const tf = synthApi();
    expect(JSON.stringify(tf)).toHaveResourceWithProperties(ApiGatewayRestApi, { endpoint_configuration: { types: ["REGIONAL"] } });
    expect(onlyResource(tf, "aws_api_gateway_resource").path_part).toBe("webhook");
    expect(onlyResource(tf, "aws_api_gateway_method").http_method).toBe("POST");
  });

  describe("in queue mode", () => {
    const tf = synthApi();

    it("sends the update to the FIFO queue with SendMessage through the request template, signed by API Gateway's role", () => {
      const queueId = idOf(tf, "aws_sqs_queue", (q) => String(q.name).endsWith("-updates.fifo"));
      const integration = onlyResource(tf, "aws_api_gateway_integration");
      expect(integration).toMatchObject({
        type: "AWS",
        integration_http_method: "POST",
        passthrough_behavior: "NEVER",
        request_parameters: { "integration.request.header.Content-Type": "'application/x-www-form-urlencoded'" },
        request_templates: { "application/json": QUEUE_REQUEST_TEMPLATE },
      });
      expect(integration.uri).toBe(`arn:aws:apigateway:us-east-1:sqs:path/\${element(split(":", aws_sqs_queue.${queueId}.arn), 4)}/\${aws_sqs_queue.${queueId}.name}`);
      const roleId = idOf(tf, "aws_iam_role", (r) => String(r.assume_role_policy).includes("apigateway.amazonaws.com"));
      expect(integration.credentials).toBe(`\${aws_iam_role.${roleId}.arn}`);
      const policy = Object.values(resourcesOf(tf, "aws_iam_role_policy")).find((p) => p.role === `\${aws_iam_role.${roleId}.id}`);
      expect(JSON.parse(String(policy?.policy)).Statement).toEqual([
        { Sid: "SendUpdates", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [`\${aws_sqs_queue.${queueId}.arn}`] },
      ]);
    });

    it("answers Telegram 200 once SQS has the update, and 502 (so Telegram redelivers) when SendMessage fails, without SQS's answer", () => {
      const responses = Object.values(resourcesOf(tf, "aws_api_gateway_integration_response"));
      const byPattern = new Map(responses.map((r) => [r.selection_pattern ?? "(default)", r]));
      expect([...byPattern.keys()].sort()).toEqual(["(default)", "[45]\\d{2}"]);
      for (const r of responses) expect(r.response_templates).toEqual({ "application/json": "" });
      const statusOf = (id: unknown) => resourcesOf(tf, "aws_api_gateway_method_response")[String(id).split(".")[1]]?.status_code;
      expect(statusOf(byPattern.get("(default)")?.status_code)).toBe("200");
      expect(statusOf(byPattern.get("[45]\\d{2}")?.status_code)).toBe("502");
    });

    it("guards the method with a cached REQUEST authorizer on the secret-token header, run by the authorizer function", () => {
      const authorizer = onlyResource(tf, "aws_api_gateway_authorizer");
      const fnId = idOf(tf, "aws_lambda_function", (f) => f.handler === "index.authorizer");
      expect(authorizer).toMatchObject({
        type: "REQUEST",
        identity_source: "method.request.header.X-Telegram-Bot-Api-Secret-Token",
        authorizer_result_ttl_in_seconds: AUTHORIZER_CACHE_SECONDS,
        authorizer_uri: `\${aws_lambda_function.${fnId}.invoke_arn}`,
      });
      const authorizerId = idOf(tf, "aws_api_gateway_authorizer");
      expect(onlyResource(tf, "aws_api_gateway_method")).toMatchObject({ authorization: "CUSTOM", authorizer_id: `\${aws_api_gateway_authorizer.${authorizerId}.id}` });
      const apiId = idOf(tf, "aws_api_gateway_rest_api");
      expect(Object.values(resourcesOf(tf, "aws_lambda_permission"))).toEqual([
        expect.objectContaining({
          function_name: `\${aws_lambda_function.${fnId}.function_name}`,
          source_arn: `\${aws_api_gateway_rest_api.${apiId}.execution_arn}/authorizers/\${aws_api_gateway_authorizer.${authorizerId}.id}`,
        }),
      ]);
    });

    it("throttles the stage (10 per second, bursts of 20 by default, or as set)", () => {
      expect(onlyResource(tf, "aws_api_gateway_method_settings")).toMatchObject({ method_path: "*/*", settings: { throttling_rate_limit: 10, throttling_burst_limit: 20 } });
      const custom = synthApi({ throttleRateLimit: 3, throttleBurstLimit: 6 });
      expect(onlyResource(custom, "aws_api_gateway_method_settings").settings).toMatchObject({ throttling_rate_limit: 3, throttling_burst_limit: 6 });
    });

    it("fails without its queue, its authorizer or a region", () => {
      expect(() => synthWith((scope, deps) => {
        new WebhookApi(scope, "Api", { fn: new BotFunction(scope, "Fn", botFunctionProps(deps)) });
      })).toThrow(/webhook api: invalid queue: got undefined; allowed: an UpdateQueue in queue mode/);
    });
  });

  it("uses the Lambda proxy integration, no authorizer and no response mapping in sync mode", () => {
    const tf = synthApi({ deliveryMode: "sync" });
    expect(JSON.stringify(tf)).toHaveResourceWithProperties(ApiGatewayIntegration, { type: "AWS_PROXY", integration_http_method: "POST" });
    expect(onlyResource(tf, "aws_api_gateway_method").authorization).toBe("NONE");
    expect(onlyResource(tf, "aws_api_gateway_integration").request_templates).toBeUndefined();
    expect(resourcesOf(tf, "aws_api_gateway_integration_response")).toEqual({});
    expect(resourcesOf(tf, "aws_api_gateway_authorizer")).toEqual({});
  });

  it("redeploys when the API changes and deploys before destroying", () => {
    const queued = onlyResource(synthApi(), "aws_api_gateway_deployment");
    const sync = onlyResource(synthApi({ deliveryMode: "sync" }), "aws_api_gateway_deployment");
    expect(queued.lifecycle).toEqual({ create_before_destroy: true });
    expect((queued.triggers as Record<string, string>).redeployment).toMatch(/^\$\{sha1\(jsonencode\(\[/);
    expect((queued.triggers as Record<string, string>).redeployment).not.toBe((sync.triggers as Record<string, string>).redeployment);
  });

  it("deploys to the given stage and, in sync mode, lets only this API's POST /webhook invoke the function", () => {
    const tf = synthApi({ stageName: "prod", deliveryMode: "sync" });
    expect(onlyResource(tf, "aws_api_gateway_stage").stage_name).toBe("prod");
    const apiId = idOf(tf, "aws_api_gateway_rest_api");
    expect(JSON.stringify(tf)).toHaveResourceWithProperties(LambdaPermission, {
      action: "lambda:InvokeFunction",
      principal: "apigateway.amazonaws.com",
      source_arn: `\${aws_api_gateway_rest_api.${apiId}.execution_arn}/*/POST/webhook`,
    });
  });

  it("fails if the path is more than one segment", () => {
    expect(() => synthApi({ path: "a/b" })).toThrow(/webhook api: invalid path: got "a\/b"/);
  });
});
