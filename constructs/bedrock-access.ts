import { Construct } from "constructs";
import type { ModelEntry } from "../config/models";
import { PATTERNS } from "../config/stack-config";
import type { Grantable, PolicyStatement } from "./service-role";
import { isToken, patternRule, validateProps, type PropRule } from "./validation";

/** What invoking a model takes: Converse and InvokeModel need the first, their streaming forms the second. */
export const BEDROCK_INVOKE_ACTIONS: readonly string[] = Object.freeze(["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]);

/**
 * The Regions a geographic cross-Region inference profile (`us.anthropic...`) may route a request
 * to, by the id's prefix: the union, over the models of each geography, of the destination Regions
 * in the Bedrock user guide ("Supported Regions and models for inference profiles"), compiled
 * 2026-12; check it there when adding a model, and add a Region here when AWS adds one. A model
 * uses some of its geography's Regions; granting it in the others adds no reach, because that
 * statement holds only through our own profiles. `global.` routes to every commercial Region and
 * is handled apart (see {@link bedrockModelAccess}).
 */
export const INFERENCE_PROFILE_GEOGRAPHIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  us: ["us-east-1", "us-east-2", "us-west-1", "us-west-2"],
  "us-gov": ["us-gov-east-1", "us-gov-west-1"],
  eu: ["eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3"],
  apac: ["ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-4"],
  jp: ["ap-northeast-1", "ap-northeast-3"],
  au: ["ap-southeast-2", "ap-southeast-4"],
});

/** The prefix of a global cross-Region inference profile id. */
export const GLOBAL_PROFILE_PREFIX = "global";

/** What the function needs to invoke the configured Bedrock models. */
export interface BedrockModelAccess {
  /** Foundation models named directly, inference profiles and ARNs given as is: no condition. */
  readonly direct: readonly string[];
  /** The foundation models the profiles route to: allowed only through {@link profiles}. */
  readonly throughProfiles: readonly string[];
  /** The inference profiles (the condition on {@link throughProfiles}). */
  readonly profiles: readonly string[];
}

/** The ARN partition of a Region. Pure. */
export function partitionOf(region: string): string {
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("cn-")) return "aws-cn";
  return "aws";
}

/** Where one model id lives: a foundation model, a geographic or global profile, or an ARN. */
type ModelRef =
  | { readonly kind: "foundation"; readonly model: string }
  /** `arn` and `region` when the profile was given by its ARN. */
  | { readonly kind: "profile"; readonly geography: string; readonly model: string; readonly arn?: string; readonly region?: string }
  | { readonly kind: "applicationProfile"; readonly arn: string }
  | { readonly kind: "arn"; readonly arn: string };

/** What a Bedrock model id refers to; undefined for an inference profile of an unknown geography. Pure. */
export function modelRefOf(id: string): ModelRef | undefined {
  const arn = /^arn:[a-z-]+:bedrock:([a-z0-9-]*):[0-9]*:([a-z-]+)\/(.+)$/.exec(id);
  if (arn) {
    if (arn[2] === "application-inference-profile") return { kind: "applicationProfile", arn: id };
    const profile = arn[2] === "inference-profile" ? modelRefOf(arn[3]!) : undefined;
    return profile?.kind === "profile" ? { ...profile, arn: id, region: arn[1] } : { kind: "arn", arn: id };
  }
  // A foundation model id is <provider>.<model>; a profile's puts its geography first.
  const dot = id.indexOf(".");
  if (id.indexOf(".", dot + 1) < 0) return { kind: "foundation", model: id };
  const geography = id.slice(0, dot);
  const known = geography === GLOBAL_PROFILE_PREFIX || Object.hasOwn(INFERENCE_PROFILE_GEOGRAPHIES, geography);
  return known ? { kind: "profile", geography, model: id.slice(dot + 1) } : undefined;
}

/**
 * The ARNs one deployment's Bedrock entries need, for a function in `region` of `accountId`:
 * - a foundation model id (`anthropic.claude-3-haiku-20240307-v1:0`): that model in the entry's Region;
 * - a geographic profile id (`us.anthropic...`): the profile in the entry's Region, and the
 *   foundation model in every Region of its geography (and the entry's own), through the profile;
 * - a global profile id (`global.anthropic...`): the profile, the foundation model in the entry's
 *   Region and the Region-less `arn:aws:bedrock:::foundation-model/...` AWS documents for the
 *   Regions worldwide, through the profile;
 * - an application inference profile ARN: the profile, and any foundation model through it;
 * - any other ARN: as is.
 * Each ARN once, in order. Throws for a profile of an unknown geography. Pure.
 */
export function bedrockModelAccess(entries: readonly ModelEntry[], region: string, accountId: string): BedrockModelAccess {
  const access = { direct: new Set<string>(), throughProfiles: new Set<string>(), profiles: new Set<string>() };
  for (const entry of entries.filter((e) => e.provider === "bedrock")) addAccess(access, entry, entry.region ?? region, accountId);
  return { direct: [...access.direct], throughProfiles: [...access.throughProfiles], profiles: [...access.profiles] };
}

/** Adds what one Bedrock entry needs, invoked from `home`, to the sets. */
function addAccess(access: { [K in keyof BedrockModelAccess]: Set<string> }, entry: ModelEntry, home: string, accountId: string): void {
  const partition = partitionOf(home);
  const foundation = (r: string, model: string) => `arn:${partition}:bedrock:${r}::foundation-model/${model}`;
  const ref = modelRefOf(entry.model);
  if (ref === undefined) throw new Error(`bedrock access: invalid models: got ${JSON.stringify(entry.model)} (${entry.name}); allowed: ${allowedModelIds()}`);
  switch (ref.kind) {
    case "foundation":
      access.direct.add(foundation(home, ref.model));
      return;
    case "arn":
      access.direct.add(ref.arn);
      return;
    case "applicationProfile":
      access.direct.add(ref.arn);
      access.profiles.add(ref.arn);
      access.throughProfiles.add(foundation("*", "*"));
      return;
    case "profile": {
      const profile = ref.arn ?? `arn:${partition}:bedrock:${home}:${accountId}:inference-profile/${ref.geography}.${ref.model}`;
      access.direct.add(profile);
      access.profiles.add(profile);
      // Global: the entry's Region and the Region-less ARN AWS documents for the rest of the world.
      const source = ref.region ?? home;
      const regions = ref.geography === GLOBAL_PROFILE_PREFIX ? [source, ""] : [...INFERENCE_PROFILE_GEOGRAPHIES[ref.geography]!, source];
      for (const r of regions) access.throughProfiles.add(foundation(r, ref.model));
    }
  }
}

function allowedModelIds(): string {
  const prefixes = [...Object.keys(INFERENCE_PROFILE_GEOGRAPHIES), GLOBAL_PROFILE_PREFIX].map((p) => `${p}.`).join(", ");
  return `a foundation model id (provider.model), an inference profile id starting with ${prefixes}, or an arn`;
}

/** Props of {@link BedrockAccess}. */
export interface BedrockAccessProps {
  /** The model list; only its Bedrock entries count. */
  readonly models: readonly ModelEntry[];
  /** Region of an entry without its own `region`: the stack's (the function's AWS_REGION). */
  readonly region: string;
  /** The account of the inference profiles (a Terraform reference: DataAwsCallerIdentity.accountId). */
  readonly accountId: string;
}

/**
 * Access to the Bedrock models of the model list: `bedrock:InvokeModel` and
 * `bedrock:InvokeModelWithResponseStream` on exactly the configured models and inference profiles,
 * and on the foundation models the profiles route to, only through those profiles
 * (`bedrock:InferenceProfileArn`). No Bedrock entry, no statement. Model access itself is
 * switched on per model in the Bedrock console; IAM cannot do that.
 */
export class BedrockAccess extends Construct {
  /** The ARNs granted, by how. */
  public readonly access: BedrockModelAccess;

  constructor(scope: Construct, id: string, props: BedrockAccessProps) {
    super(scope, id);
    const rules: PropRule[] = [
      patternRule("region", props.region, PATTERNS.region, "an aws region such as us-east-1"),
      { setting: "accountId", value: props.accountId, ok: isToken(props.accountId) || /^\d{12}$/.test(props.accountId), allowed: "a 12-digit account id or a terraform reference" },
    ];
    validateProps("bedrock access", rules);
    this.access = bedrockModelAccess(props.models, props.region, props.accountId);
  }

  /** The statements that allow invoking the models (none without Bedrock entries). */
  public get statements(): PolicyStatement[] {
    const { direct, throughProfiles, profiles } = this.access;
    const statements: PolicyStatement[] = [];
    if (direct.length > 0) statements.push({ sid: "InvokeBedrockModels", actions: BEDROCK_INVOKE_ACTIONS, resources: direct });
    if (throughProfiles.length > 0) {
      statements.push({
        sid: "InvokeBedrockModelsThroughProfiles",
        actions: BEDROCK_INVOKE_ACTIONS,
        resources: throughProfiles,
        condition: { ArnLike: { "bedrock:InferenceProfileArn": profiles } },
      });
    }
    return statements;
  }

  /** Lets `grantee` invoke the models; a no-op without Bedrock entries (and with a lab role). */
  public grantInvoke(grantee: Grantable): void {
    for (const statement of this.statements) grantee.grant(statement);
  }
}
