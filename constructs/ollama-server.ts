import { Fn, TerraformLocal } from "cdktf";
import { Construct } from "constructs";
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { EipAssociation } from "@cdktf/provider-aws/lib/eip-association";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import type { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import {
  MODELS_PREFIX,
  OLLAMA_INTERNAL_PORT,
  OLLAMA_PROXY_PORT,
  OLLAMA_RELEASE,
  TRANSCRIPTION_PATH,
  WHISPER_INTERNAL_PORT,
  WHISPER_MODELS_PREFIX,
} from "../config/defaults";
import { transcriptionOnInstance, validateReleases } from "../config/releases";
import { PATTERNS } from "../config/stack-config";
import type { ArchiveBucket } from "./archive-bucket";
import { ProxyCertificate } from "./ollama-server/proxy-certificate";
import { renderUserData, type TranscriptionValues } from "./ollama-server/render";
import { ServiceRole } from "./service-role";
import { integerRule, patternRule, validateProps, type PropRule } from "./validation";

/** EC2's limit on an instance's user data, in bytes (before base64): the instance's is gzipped to fit. */
export const EC2_USER_DATA_MAX_BYTES = 16 * 1024;

/** Name pattern of the Amazon Linux 2023 AMIs the instance runs (standard, x86_64). */
export const AMI_NAME_PATTERN = "al2023-ami-2023.*-x86_64";

/** Props of {@link OllamaServer}. */
export interface OllamaServerProps {
  /** Name tag and prefix of the instance's resources. @default "ollama-server" */
  readonly name?: string;
  /** Instance type (a string or a Terraform variable). @default "t3.large" */
  readonly instanceType?: string;
  /** Root volume in GiB: the OS plus every model. @default 30 */
  readonly volumeSizeGb?: number;
  /** Models to pull at first boot (the stack's one model list). */
  readonly models: readonly string[];
  /** Bucket whose models/ prefix keeps the model files between stops. */
  readonly bucket: ArchiveBucket;
  /**
   * Terraform reference to the API key nginx checks. It is stored in an SSM SecureString
   * parameter (`/<name>/api-key`) that the instance reads each time nginx starts: it is never
   * in the instance's user data.
   */
  readonly apiKey: string;
  /** CIDR allowed to SSH in. @default - no SSH rule at all */
  readonly sshAllowedCidr?: string;
  /**
   * AWS Academy: use this existing instance profile instead of creating one (its role must
   * allow ssm:GetParameter on the key's parameter; LabRole does).
   * @default - a profile limited to models/ and the key's parameter is created
   */
  readonly labInstanceProfileName?: string;
  /** Port nginx listens on (the one Lambda calls). @default OLLAMA_PROXY_PORT (11434) */
  readonly proxyPort?: number;
  /** Port Ollama binds on 127.0.0.1. @default OLLAMA_INTERNAL_PORT (11435) */
  readonly internalPort?: number;
  /** Generations Ollama runs at once (OLLAMA_NUM_PARALLEL). @default 2 */
  readonly numParallel?: number;
  /** The Ollama release the instance installs. @default OLLAMA_RELEASE.version */
  readonly ollamaVersion?: string;
  /**
   * SHA-256 of the release's Linux amd64 archive; the instance installs nothing else.
   * @default "" - the hash in the release's own sha256sum.txt (fetched from GitHub)
   */
  readonly ollamaSha256?: string;
  /**
   * Requests Ollama keeps waiting beyond `numParallel` before it answers 503 (OLLAMA_MAX_QUEUE).
   * Queue mode passes the event source mapping's maximum concurrency, the most that can arrive.
   * @default 512 (Ollama's own default)
   */
  readonly maxQueue?: number;
  /**
   * The whisper.cpp model of the instance's voice transcription server (a name of
   * config/releases.ts WHISPER_MODELS, such as base or small); "" for no transcription server.
   * @default DEFAULT_TRANSCRIPTION_MODEL ("base")
   */
  readonly transcriptionModel?: string;
  /** The whisper.cpp release its server is built from (1.8.3 or later). @default WHISPER_RELEASE.version */
  readonly whisperVersion?: string;
  /**
   * SHA-256 of that release's source tar.gz. whisper.cpp publishes no checksum file, so without
   * it the instance builds nothing: "" means no transcription server.
   * @default WHISPER_RELEASE.sha256 when whisperVersion is WHISPER_RELEASE.version, else ""
   */
  readonly whisperSha256?: string;
  /** The FFmpeg release built for whisper.cpp's --convert (Amazon Linux 2023 has no ffmpeg). @default FFMPEG_RELEASE.version */
  readonly ffmpegVersion?: string;
  /**
   * SHA-256 of ffmpeg-<version>.tar.xz; "" means no transcription server, as for whisperSha256.
   * @default FFMPEG_RELEASE.sha256 when ffmpegVersion is FFMPEG_RELEASE.version, else ""
   */
  readonly ffmpegSha256?: string;
  /** Port whisper.cpp's server binds on 127.0.0.1 (nginx forwards the transcription route there). @default WHISPER_INTERNAL_PORT (8178) */
  readonly transcriptionPort?: number;
}

/**
 * The self-hosted Ollama server: an Amazon Linux 2023 instance (IMDSv2 only, encrypted root
 * volume) with an elastic IP, a security group open on the proxy port (Lambda runs outside
 * the VPC) and SSH only from a given CIDR, and user data that installs Ollama on loopback
 * behind an nginx API-key proxy (the key read from an SSM SecureString parameter at every
 * nginx start), restores and pulls the models, and syncs them back to S3 on shutdown. With a
 * transcription model and both source archives pinned, it also builds whisper.cpp's server (and
 * ffmpeg) for voice messages, on loopback behind the same proxy, its model kept in S3 too.
 */
export class OllamaServer extends Construct {
  public readonly instance: Instance;
  public readonly eip: Eip;
  public readonly securityGroup: SecurityGroup;
  /** Base URL Lambda calls: https://<elastic ip>:<proxy port>. */
  public readonly url: string;
  /** The proxy's self-signed certificate (PEM): the only CA the function trusts for {@link url}. */
  public readonly certificatePem: string;
  /**
   * The rendered user data (with Terraform references to the bucket and the key's parameter; never
   * the key). The instance gets it gzipped (Terraform's base64gzip of the local {@link userDataLocal}).
   */
  public readonly userData: string;
  /** The Terraform local holding {@link userData}, which the instance's user_data_base64 compresses. */
  public readonly userDataLocal: TerraformLocal;
  /** The SecureString parameter holding the API key. */
  public readonly apiKeyParameter: SsmParameter;
  /**
   * The transcription endpoint the function calls, on {@link url}'s origin (the same key and
   * certificate): https://<elastic ip>:<proxy port>/v1/audio/transcriptions. undefined when the
   * instance runs no transcription server.
   */
  public readonly transcriptionUrl: string | undefined;
  /** The whisper.cpp model the transcription server runs; undefined without one. */
  public readonly transcriptionModel: string | undefined;

  constructor(scope: Construct, id: string, props: OllamaServerProps) {
    super(scope, id);
    const { name, proxyPort, internalPort, volumeSizeGb, instanceType, numParallel, maxQueue, transcription } = resolveSettings(props);

    const ami = new DataAwsAmi(this, "Ami", {
      mostRecent: true,
      owners: ["amazon"],
      filter: [
        { name: "name", values: [AMI_NAME_PATTERN] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
      ],
    });

    this.securityGroup = this.openFirewall(name, proxyPort, props.sshAllowedCidr);

    // The address comes first: the certificate names it, and the instance reads the certificate.
    this.eip = new Eip(this, "ElasticIp", { domain: "vpc", tags: { Name: `${name}-eip` } });
    const tls = new ProxyCertificate(this, "ProxyCertificate", { name, ipAddress: this.eip.publicIp });
    this.certificatePem = tls.certificatePem;

    this.apiKeyParameter = new SsmParameter(this, "ApiKeyParameter", {
      name: `/${name}/api-key`,
      description: "API key the Ollama instance's nginx proxy checks (X-API-Key); read at every nginx start",
      type: "SecureString",
      value: props.apiKey,
    });

    let instanceProfile: string;
    let rolePolicy: IamRolePolicy | undefined;
    if (props.labInstanceProfileName) {
      instanceProfile = props.labInstanceProfileName;
    } else {
      const role = new ServiceRole(this, "InstanceRole", { roleName: `${name}-role`, servicePrincipal: "ec2.amazonaws.com" });
      props.bucket.grantReadWrite(role, MODELS_PREFIX);
      // The parameter uses the account's AWS managed key (aws/ssm), which SSM may use for the role.
      role.grant({
        sid: "ReadProxySecrets",
        actions: ["ssm:GetParameter"],
        resources: [this.apiKeyParameter.arn, tls.keyParameter.arn, tls.certificateParameter.arn],
      });
      rolePolicy = role.policy;
      instanceProfile = new IamInstanceProfile(this, "InstanceProfile", {
        name: `${name}-profile`,
        role: role.roleName,
      }).name;
    }

    this.userData = renderUserData({
      bucket: props.bucket.bucketName,
      modelsPrefix: MODELS_PREFIX,
      models: props.models,
      proxyPort,
      internalPort,
      apiKeyParameter: this.apiKeyParameter.name,
      tlsKeyParameter: tls.keyParameter.name,
      tlsCertificateParameter: tls.certificateParameter.name,
      ollama: { version: props.ollamaVersion ?? OLLAMA_RELEASE.version, sha256: props.ollamaSha256 ?? "" },
      numParallel,
      maxQueue,
      whisperModelsPrefix: WHISPER_MODELS_PREFIX,
      transcription,
    });

    // EC2 takes at most 16 KB of user data, and the scripts are more (with voice, half again):
    // gzipped, cloud-init unpacks them. Terraform compresses them, as they hold references known
    // only at deploy; a local carries the text, since cdktf cannot pass text that mixes literals
    // and references to a function.
    this.userDataLocal = new TerraformLocal(this, "UserData", this.userData);
    this.instance = new Instance(this, "Instance", {
      ami: ami.id,
      instanceType,
      vpcSecurityGroupIds: [this.securityGroup.id],
      iamInstanceProfile: instanceProfile,
      userDataBase64: Fn.base64gzip(this.userDataLocal.asString),
      // User data runs at first boot only: a changed model list needs a new instance (which
      // restores the models from S3; the elastic IP moves over). A new key does not: nginx reads
      // it from the parameter when it (re)starts.
      userDataReplaceOnChange: true,
      rootBlockDevice: { volumeSize: volumeSizeGb, volumeType: "gp3", encrypted: true, deleteOnTermination: true },
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      tags: { Name: name },
      // First boot reads the key and the models with this policy: it must exist by then.
      ...(rolePolicy ? { dependsOn: [rolePolicy] } : {}),
    });
    new EipAssociation(this, "ElasticIpAssociation", { allocationId: this.eip.allocationId, instanceId: this.instance.id });
    this.url = `https://${this.eip.publicIp}:${proxyPort}`;
    this.transcriptionUrl = transcription ? `${this.url}${TRANSCRIPTION_PATH}` : undefined;
    this.transcriptionModel = transcription?.model;
  }

  /** The proxy port open to the internet (Lambda runs outside the VPC), SSH only from the given CIDR. */
  private openFirewall(name: string, proxyPort: number, sshAllowedCidr: string | undefined): SecurityGroup {
      const group = new SecurityGroup(this, "SecurityGroup", {
        name: `${name}-sg`,
        description: `Ollama API-key proxy on ${proxyPort}${sshAllowedCidr ? " and SSH" : ""}`,
      });
      new VpcSecurityGroupIngressRule(this, "ProxyIngress", {
        securityGroupId: group.id,
        description: "Ollama through the nginx API-key proxy (Lambda runs outside the VPC)",
        ipProtocol: "tcp",
        fromPort: proxyPort,
        toPort: proxyPort,
        cidrIpv4: "0.0.0.0/0",
      });
      if (sshAllowedCidr) {
        new VpcSecurityGroupIngressRule(this, "SshIngress", {
          securityGroupId: group.id,
          description: "SSH from the administrator's network",
          ipProtocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrIpv4: sshAllowedCidr,
        });
      }
      new VpcSecurityGroupEgressRule(this, "AllEgress", {
        securityGroupId: group.id,
        description: "Packages, Ollama's model registry and S3",
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
      });
    return group;
  }
}

/** The props with their defaults, validated: a bad value fails synth naming the setting. */
function resolveSettings(props: OllamaServerProps) {
  const name = props.name ?? "ollama-server";
  const proxyPort = props.proxyPort ?? OLLAMA_PROXY_PORT;
  const internalPort = props.internalPort ?? OLLAMA_INTERNAL_PORT;
  const volumeSizeGb = props.volumeSizeGb ?? 30;
  const instanceType = props.instanceType ?? "t3.large";
  const numParallel = props.numParallel ?? 2;
  const maxQueue = props.maxQueue ?? 512;
  const transcriptionPort = props.transcriptionPort ?? WHISPER_INTERNAL_PORT;
  const rules: PropRule[] = [
    patternRule("name", name, /^[a-zA-Z0-9-]{1,40}$/, "1 to 40 letters, digits and '-'"),
    patternRule("instanceType", instanceType, PATTERNS.instanceType, "an ec2 instance type such as t3.large"),
    integerRule("volumeSizeGb", volumeSizeGb, 16, 1024),
    integerRule("proxyPort", proxyPort, 1, 65535),
    integerRule("internalPort", internalPort, 1, 65535),
    integerRule("numParallel", numParallel, 1, 32),
    integerRule("maxQueue", maxQueue, 1, 10_000),
    { setting: "internalPort", value: internalPort, ok: internalPort !== proxyPort, allowed: "a port other than proxyPort" },
    integerRule("transcriptionPort", transcriptionPort, 1, 65535),
    {
      setting: "transcriptionPort",
      value: transcriptionPort,
      ok: transcriptionPort !== proxyPort && transcriptionPort !== internalPort,
      allowed: "a port other than proxyPort and internalPort",
    },
  ];
  if (props.sshAllowedCidr !== undefined) {
    rules.push({
      setting: "sshAllowedCidr",
      value: props.sshAllowedCidr,
      ok: PATTERNS.cidr.test(props.sshAllowedCidr) && !props.sshAllowedCidr.endsWith("/0"),
      allowed: "an ipv4 cidr narrower than /0, such as 203.0.113.7/32",
    });
  }
  validateProps("ollama server", rules);
  return { name, proxyPort, internalPort, volumeSizeGb, instanceType, numParallel, maxQueue, transcription: resolveTranscription(props, transcriptionPort) };
}

/**
 * The transcription server to install, or undefined: with no model, or with a source archive
 * whose SHA-256 is not pinned (fail closed: nothing unverified is built). Defaults and checks
 * are config/releases.ts's, the stack configuration's own.
 */
function resolveTranscription(props: OllamaServerProps, port: number): TranscriptionValues | undefined {
  let settings: ReturnType<typeof validateReleases>;
  try {
    settings = validateReleases({
      transcriptionModel: props.transcriptionModel,
      whisperVersion: props.whisperVersion,
      whisperSha256: props.whisperSha256,
      ffmpegVersion: props.ffmpegVersion,
      ffmpegSha256: props.ffmpegSha256,
    });
  } catch (error) {
    throw new Error(`ollama server: ${(error as Error).message}`, { cause: error });
  }
  if (!transcriptionOnInstance(settings)) return undefined;
  return {
    model: settings.transcriptionModel,
    whisper: { version: settings.whisperVersion, sha256: settings.whisperSha256 },
    ffmpeg: { version: settings.ffmpegVersion, sha256: settings.ffmpegSha256 },
    port,
  };
}
