import { onlyResource, type TerraformJson } from "../../support/terraform-json";

/**
 * The Ollama instance's user data as synthesized: the text of the local that its
 * user_data_base64 gzips (`${base64gzip(local.<name>)}`), with Terraform's references and escapes.
 */
export function userDataOf(tf: TerraformJson): string {
  const expression = onlyResource(tf, "aws_instance").user_data_base64;
  const name = /^\$\{base64gzip\(local\.([\w-]+)\)\}$/.exec(String(expression))?.[1];
  const text = name === undefined ? undefined : tf.locals?.[name];
  if (typeof text !== "string") throw new Error(`the instance's user_data_base64 is not base64gzip of a local: ${String(expression)}`);
  return text;
}
