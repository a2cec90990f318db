import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";

/** Placeholder entry point until the handler lands (issue 3). */
export async function handler(_event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  return { statusCode: 200, body: "" };
}
