import { TerraformStack, Testing } from "cdktf";
import type { ModelEntry } from "../../config/models";
import { BedrockAccess, bedrockModelAccess, INFERENCE_PROFILE_GEOGRAPHIES, modelRefOf, partitionOf } from "../../constructs/bedrock-access";
import { ServiceRole } from "../../constructs/service-role";
import { parseTf, resourcesOf, type TerraformJson } from "../support/terraform-json";

const ACCOUNT = "123456789012";
const HAIKU_3 = "anthropic.claude-3-haiku-20240307-v1:0";
const HAIKU_35 = "anthropic.claude-3-5-haiku-20241022-v1:0";
const bedrock = (model: string, extra: Partial<ModelEntry> = {}): ModelEntry => ({ name: model.slice(0, 60), provider: "bedrock", model, ...extra });

/** The role policy's statements after granting a BedrockAccess for `models`. */
function statementsFor(models: readonly ModelEntry[], labRoleArn?: string): { tf: TerraformJson; statements: Array<{ Sid: string; Action: string[]; Resource: string[]; Condition?: unknown }> } {
  const tf = parseTf(
    Testing.synthScope((scope) => {
      const role = new ServiceRole(scope, "Role", { roleName: "bot-role", servicePrincipal: "lambda.amazonaws.com", existingRoleArn: labRoleArn });
      new BedrockAccess(scope as TerraformStack, "Bedrock", { models, region: "us-east-1", accountId: ACCOUNT }).grantInvoke(role);
    }),
  );
  const policies = Object.values(resourcesOf(tf, "aws_iam_role_policy"));
  const statements = policies.length === 0 ? [] : JSON.parse(policies[0]!.policy as string).Statement;
  return { tf, statements };
}

describe("BedrockAccess", () => {
  it("grants a foundation model by its ARN in the entry's region, and nothing through profiles", () => {
    const { statements } = statementsFor([bedrock(HAIKU_3)]);
    expect(statements).toEqual([
      {
        Sid: "InvokeBedrockModels",
        Effect: "Allow",
        Action: ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
        Resource: [`arn:aws:bedrock:us-east-1::foundation-model/${HAIKU_3}`],
      },
    ]);
  });

  it("grants an inference profile, and its model in every region of its geography only through that profile", () => {
    const { statements } = statementsFor([bedrock(`us.${HAIKU_35}`)]);
    const profile = `arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/us.${HAIKU_35}`;
    expect(statements[0]).toMatchObject({ Sid: "InvokeBedrockModels", Resource: [profile] });
    expect(statements[1]).toEqual({
      Sid: "InvokeBedrockModelsThroughProfiles",
      Effect: "Allow",
      Action: ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
      Resource: ["us-east-1", "us-east-2", "us-west-1", "us-west-2"].map((r) => `arn:aws:bedrock:${r}::foundation-model/${HAIKU_35}`),
      Condition: { ArnLike: { "bedrock:InferenceProfileArn": [profile] } },
    });
    expect(statements).toHaveLength(2);
  });

  it("grants exactly the ARNs of a mixed list: a foundation model in its own region, a European profile, a global profile and an ARN as is", () => {
    const arn = `arn:aws:bedrock:us-east-1:${ACCOUNT}:provisioned-model/abc123`;
    const access = bedrockModelAccess(
      [bedrock(HAIKU_3, { region: "eu-west-1" }), bedrock(`eu.${HAIKU_35}`, { region: "eu-central-1" }), bedrock(`global.${HAIKU_35}`), bedrock(arn, { name: "provisioned" }), { name: "llama3.2:1b", provider: "ollama", model: "llama3.2:1b" }],
      "us-east-1",
      ACCOUNT,
    );
    const euProfile = `arn:aws:bedrock:eu-central-1:${ACCOUNT}:inference-profile/eu.${HAIKU_35}`;
    const globalProfile = `arn:aws:bedrock:us-east-1:${ACCOUNT}:inference-profile/global.${HAIKU_35}`;
    expect(access.direct).toEqual([`arn:aws:bedrock:eu-west-1::foundation-model/${HAIKU_3}`, euProfile, globalProfile, arn]);
    expect(access.profiles).toEqual([euProfile, globalProfile]);
    expect(access.throughProfiles).toEqual([
      ...INFERENCE_PROFILE_GEOGRAPHIES.eu!.map((r) => `arn:aws:bedrock:${r}::foundation-model/${HAIKU_35}`),
      `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU_35}`,
      `arn:aws:bedrock:::foundation-model/${HAIKU_35}`,
    ]);
  });

  it("takes an inference profile's ARN as is, with its geography's models from the ARN's region", () => {
    const arn = `arn:aws:bedrock:ap-south-1:${ACCOUNT}:inference-profile/apac.${HAIKU_35}`;
    const access = bedrockModelAccess([bedrock(arn, { name: "haiku-apac" })], "us-east-1", ACCOUNT);
    expect(access.direct).toEqual([arn]);
    expect(access.throughProfiles).toContain(`arn:aws:bedrock:ap-southeast-1::foundation-model/${HAIKU_35}`);
    expect(access.throughProfiles).toHaveLength(INFERENCE_PROFILE_GEOGRAPHIES.apac!.length);
  });

  it("lets an application inference profile reach its model only through itself", () => {
    const arn = `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/a1b2c3`;
    expect(bedrockModelAccess([bedrock(arn, { name: "tagged" })], "us-east-1", ACCOUNT)).toEqual({
      direct: [arn],
      profiles: [arn],
      throughProfiles: ["arn:aws:bedrock:*::foundation-model/*"],
    });
  });

  it("uses the partition of GovCloud and China regions", () => {
    expect(partitionOf("us-gov-west-1")).toBe("aws-us-gov");
    expect(partitionOf("cn-north-1")).toBe("aws-cn");
    expect(bedrockModelAccess([bedrock(HAIKU_3, { region: "us-gov-west-1" })], "us-east-1", ACCOUNT).direct).toEqual([`arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/${HAIKU_3}`]);
  });

  it("grants nothing at all without a Bedrock entry", () => {
    const { tf, statements } = statementsFor([{ name: "llama3.2:1b", provider: "ollama", model: "llama3.2:1b" }]);
    expect(statements).toEqual([]);
    expect(JSON.stringify(tf)).not.toContain("bedrock");
  });

  it("creates no policy with a lab role", () => {
    const { tf } = statementsFor([bedrock(`us.${HAIKU_35}`)], `arn:aws:iam::${ACCOUNT}:role/LabRole`);
    expect(resourcesOf(tf, "aws_iam_role_policy")).toEqual({});
    expect(resourcesOf(tf, "aws_iam_role")).toEqual({});
  });

  it("tells foundation models from profiles by the geography prefix", () => {
    expect(modelRefOf(HAIKU_3)).toEqual({ kind: "foundation", model: HAIKU_3 });
    expect(modelRefOf(`jp.${HAIKU_35}`)).toEqual({ kind: "profile", geography: "jp", model: HAIKU_35 });
    expect(modelRefOf(`xx.${HAIKU_35}`)).toBeUndefined();
  });

  it("fails if a profile's geography is unknown, naming the model", () => {
    expect(() => statementsFor([bedrock(`xx.${HAIKU_35}`, { name: "mystery" })])).toThrow(
      /bedrock access: invalid models: got "xx\.anthropic\.claude-3-5-haiku-20241022-v1:0" \(mystery\); allowed: .*us\., us-gov\., eu\./,
    );
  });

  it("fails if the region or the account is invalid", () => {
    const stack = new TerraformStack(Testing.app(), "bad");
    expect(() => new BedrockAccess(stack, "A", { models: [], region: "mars", accountId: ACCOUNT })).toThrow(/bedrock access: invalid region: got "mars"/);
    expect(() => new BedrockAccess(stack, "B", { models: [], region: "us-east-1", accountId: "42" })).toThrow(/invalid accountId: got "42"/);
  });
});
