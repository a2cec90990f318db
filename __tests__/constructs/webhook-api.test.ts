import { ApiGatewayIntegration } from "@cdktf/provider-aws/lib/api-gateway-integration";
import { ApiGatewayRestApi } from "@cdktf/provider-aws/lib/api-gateway-rest-api";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { BotFunction } from "../../constructs/bot-function";
import { WebhookApi, type WebhookApiProps } from "../../constructs/webhook-api";
import { ASYNC_REQUEST_TEMPLATE } from "../../constructs/webhook-api/async-request-template";
import { botFunctionProps, synthWith } from "../support/infra";
import { onlyResource, resourcesOf, type TerraformJson } from "../support/terraform-json";

function synthApi(props: Partial<Omit<WebhookApiProps, "fn">> = {}): TerraformJson {
  return synthWith((scope, deps) => {
    const fn = new BotFunction(scope, "Fn", botFunctionProps(deps, { deliveryMode: props.deliveryMode }));
    new WebhookApi(scope, "Api", { fn, ...props });
  });
}

describe("WebhookApi", () => {
  it("is a REGIONAL REST API with POST /webhook", () => {
    const json = JSON.stringify(synthApi());
    expect(json).toHaveResourceWithProperties(ApiGatewayRestApi, { endpoint_configuration: { types: ["REGIONAL"] } });
    const tf = synthApi();
    expect(onlyResource(tf, "aws_api_gateway_resource").path_part).toBe("webhook");
    expect(onlyResource(tf, "aws_api_gateway_method")).toMatchObject({ http_method: "POST", authorization: "NONE" });
  });

  it("invokes the function as an Event with a proxy-shaped request template in async mode", () => {
    const tf = synthApi();
    expect(onlyResource(tf, "aws_api_gateway_integration")).toMatchObject({
      type: "AWS",
      integration_http_method: "POST",
      passthrough_behavior: "NEVER",
      request_parameters: { "integration.request.header.X-Amz-Invocation-Type": "'Event'" },
      request_templates: { "application/json": ASYNC_REQUEST_TEMPLATE },
    });
    expect(onlyResource(tf, "aws_api_gateway_integration").uri).toMatch(/^\$\{aws_lambda_function\..+\.invoke_arn\}$/);
    expect(onlyResource(tf, "aws_api_gateway_method_response").status_code).toBe("200");
    expect(onlyResource(tf, "aws_api_gateway_integration_response").status_code).toMatch(/^\$\{aws_api_gateway_method_response\..+\.status_code\}$/);
  });

  it("uses the Lambda proxy integration and no response mapping in sync mode", () => {
    const tf = synthApi({ deliveryMode: "sync" });
    expect(JSON.stringify(tf)).toHaveResourceWithProperties(ApiGatewayIntegration, { type: "AWS_PROXY", integration_http_method: "POST" });
    expect(onlyResource(tf, "aws_api_gateway_integration").request_templates).toBeUndefined();
    expect(resourcesOf(tf, "aws_api_gateway_integration_response")).toEqual({});
  });

  it("redeploys when the API changes and deploys before destroying", () => {
    const async = onlyResource(synthApi(), "aws_api_gateway_deployment");
    const sync = onlyResource(synthApi({ deliveryMode: "sync" }), "aws_api_gateway_deployment");
    expect(async.lifecycle).toEqual({ create_before_destroy: true });
    expect((async.triggers as Record<string, string>).redeployment).toMatch(/^\$\{sha1\(jsonencode\(\[/);
    expect((async.triggers as Record<string, string>).redeployment).not.toBe((sync.triggers as Record<string, string>).redeployment);
  });

  it("deploys to the given stage and lets only this API's POST /webhook invoke the function", () => {
    const tf = synthApi({ stageName: "prod" });
    expect(onlyResource(tf, "aws_api_gateway_stage").stage_name).toBe("prod");
    const apiId = Object.keys(resourcesOf(tf, "aws_api_gateway_rest_api"))[0];
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
