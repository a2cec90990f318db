import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OLLAMA_API_KEY_HEADER, TELEGRAM_GET_FILE_LIMIT_BYTES, TRANSCRIPTION_PATH, WHISPER_INTERNAL_PORT, WHISPER_MODELS_PREFIX } from "../../config/defaults";
import { FFMPEG_VERSION_PATTERN, isAtLeast, RELEASE_VERSION_PATTERN, WHISPER_MIN_VERSION, WHISPER_MODELS } from "../../config/releases";
import { PATTERNS } from "../../config/stack-config";
import { isToken } from "../validation";

/**
 * Pure renderers of the Ollama instance's templates (user-data.sh and nginx.conf beside this
 * file). Values may be cdktf tokens (Terraform references, e.g. the API key): those stay
 * references, while every literal `${` / `%{` of the templates is escaped for Terraform.
 */

const TEMPLATE_DIR = __dirname;

/** The user-data script template, as kept in the repository. */
export const USER_DATA_TEMPLATE = readFileSync(join(TEMPLATE_DIR, "user-data.sh"), "utf8");
/** The nginx configuration template, as kept in the repository. */
export const NGINX_TEMPLATE = readFileSync(join(TEMPLATE_DIR, "nginx.conf"), "utf8");
/** The script that installs the pinned Ollama release, as kept in the repository. */
export const INSTALL_TEMPLATE = readFileSync(join(TEMPLATE_DIR, "install-ollama.sh"), "utf8");
/** The script that writes the nginx configuration with the key from SSM, as kept in the repository. */
export const PROXY_CONFIG_TEMPLATE = readFileSync(join(TEMPLATE_DIR, "proxy-config.sh"), "utf8");
/** The script that builds ffmpeg and whisper.cpp's server and fetches the model, as kept in the repository. */
export const WHISPER_INSTALL_TEMPLATE = readFileSync(join(TEMPLATE_DIR, "install-whisper.sh"), "utf8");
/** The systemd unit of whisper.cpp's server, as kept in the repository. */
export const WHISPER_UNIT_TEMPLATE = readFileSync(join(TEMPLATE_DIR, "whisper.service"), "utf8");
/** The part of the user data that sets up voice transcription, as kept in the repository. */
export const TRANSCRIPTION_SETUP_TEMPLATE = readFileSync(join(TEMPLATE_DIR, "transcription-setup.sh"), "utf8");

/**
 * Stands for the API key in the nginx configuration the instance keeps
 * (/etc/nginx/ollama.conf.template); ollama-proxy-config replaces it with the key from SSM.
 */
export const API_KEY_MARKER = "OLLAMA_API_KEY_FROM_SSM";

/**
 * Escapes text so Terraform reads it literally: `${` becomes `$${` and `%{` becomes `%%{`.
 * Apply it to templates before substituting values, so references in values stay references.
 */
export function escapeForTerraform(text: string): string {
  // Replacer functions: in a replacement string "$$" would mean a single "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** Replaces each `{{name}}` with its value; throws when a placeholder has no value. */
export function fillPlaceholders(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return value;
  });
}

/** Where the instance keeps the proxy's TLS certificate (ollama.crt) and private key (ollama.key). */
export const TLS_DIR = "/etc/nginx/ollama-tls";

/** The nginx variable suffix of a header: X-API-Key -> x_api_key ($http_x_api_key). */
export function nginxHeaderVariable(header: string): string {
  return header.toLowerCase().replace(/-/g, "_");
}

/** Requests a second each client address may make after its burst (nginx limit_req). */
export const NGINX_REQUESTS_PER_SECOND = 10;
/** Requests a client address may make at once beyond the rate before it gets 429. */
export const NGINX_REQUEST_BURST = 40;
/** Connections a client address may hold open at once (nginx limit_conn). */
export const NGINX_CONNECTIONS_PER_CLIENT = 16;
/**
 * Largest request body nginx accepts: a chat request carrying a picture of Telegram's 20 MB
 * getFile limit is about 27 MB once base64-encoded, plus its history.
 */
export const NGINX_MAX_BODY = "32m";
/**
 * Largest request body nginx accepts on the transcription route: a recording of Telegram's 20 MB
 * getFile limit and 4 MiB more for the multipart form around it.
 */
export const NGINX_TRANSCRIPTION_MAX_BODY = `${Math.ceil(TELEGRAM_GET_FILE_LIMIT_BYTES / 1024 ** 2) + 4}m`;

/** Values of {@link renderNginxConfig}. */
export interface NginxConfigValues {
  /** The `listen` argument: a port ("11434") or address:port ("127.0.0.1:8080"). */
  readonly listen: string;
  /** Port Ollama listens on at 127.0.0.1. */
  readonly upstreamPort: number;
  /**
   * Port whisper.cpp's server listens on at 127.0.0.1: `POST /v1/audio/transcriptions` is
   * forwarded there. @default - no transcription route (refused with 403 like any other path)
   */
  readonly transcriptionPort?: number;
  /** The API key (or a Terraform reference to it, a token or "${...}"): letters and digits. */
  readonly apiKey: string;
  /** Header carrying the key. @default OLLAMA_API_KEY_HEADER ("X-API-Key") */
  readonly apiKeyHeader?: string;
  /** Folder holding ollama.crt and ollama.key. @default TLS_DIR */
  readonly tlsDir?: string;
  /** Escape the template's literal `${` for Terraform before filling it in. @default false */
  readonly forTerraform?: boolean;
}

/** A TCP port (a whole number from 1 to 65535). */
function checkedPort(name: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid ${name}: got ${JSON.stringify(port)}; allowed: a whole number from 1 to 65535`);
  return port;
}

/** An absolute path without spaces, quotes or `;`, safe in nginx's configuration and a shell script. */
function checkedDir(name: string, dir: string): string {
  if (!/^\/[A-Za-z0-9_./-]+$/.test(dir)) throw new Error(`invalid ${name}: got ${JSON.stringify(dir)}; allowed: an absolute path of letters, digits, '_', '.', '/' and '-'`);
  return dir;
}

/**
 * Renders the nginx API-key proxy configuration (an http-context snippet). Pure.
 * With `forTerraform` the template is escaped first, so it can be embedded in user data.
 */
export function renderNginxConfig(values: NginxConfigValues): string {
  const header = values.apiKeyHeader ?? OLLAMA_API_KEY_HEADER;
  if (!/^[A-Za-z0-9-]+$/.test(header)) throw new Error(`invalid apiKeyHeader: got ${JSON.stringify(header)}; allowed: letters, digits and '-'`);
  const reference = isToken(values.apiKey) || /^\$\{[\w.]+\}$/.test(values.apiKey);
  // The key ends up inside an nginx regex (a case-sensitive match): letters, digits, '_' and '-' only.
  if (!reference && !/^[A-Za-z0-9_-]+$/.test(values.apiKey)) {
    throw new Error("invalid apiKey: allowed: a non-empty key of letters, digits, '_' and '-'");
  }
  const transcriptionPort = values.transcriptionPort;
  if (transcriptionPort !== undefined) checkedPort("transcriptionPort", transcriptionPort);
  const template = values.forTerraform ? escapeForTerraform(NGINX_TEMPLATE) : NGINX_TEMPLATE;
  return fillPlaceholders(template, {
    listen: values.listen,
    upstream_port: String(values.upstreamPort),
    transcription_route:
      transcriptionPort === undefined ? "# no transcription route: voice is off on this instance" : `"~^POST ${TRANSCRIPTION_PATH}$" ${TRANSCRIPTION_PATH};`,
    transcription_path: TRANSCRIPTION_PATH,
    // Unreachable without the route; the location is the same either way.
    transcription_port: String(transcriptionPort ?? WHISPER_INTERNAL_PORT),
    transcription_max_body: NGINX_TRANSCRIPTION_MAX_BODY,
    api_key: values.apiKey,
    api_key_header: header,
    api_key_variable: nginxHeaderVariable(header),
    rate: String(NGINX_REQUESTS_PER_SECOND),
    burst: String(NGINX_REQUEST_BURST),
    connections: String(NGINX_CONNECTIONS_PER_CLIENT),
    max_body: NGINX_MAX_BODY,
    tls_dir: checkedDir("tlsDir", values.tlsDir ?? TLS_DIR),
  });
}

/**
 * Minutes between two checks of the API key in SSM by the instance (the
 * ollama-api-key-refresh timer): how long a rotated key can take to reach nginx.
 */
export const API_KEY_REFRESH_MINUTES = 5;

/** Values of {@link renderProxyConfigScript}. */
export interface ProxyConfigValues {
  /** Name of the SecureString parameter holding the key (may be a Terraform reference). */
  readonly apiKeyParameter: string;
  /** Name of the SecureString parameter holding the TLS private key (PEM; may be a reference). */
  readonly tlsKeyParameter: string;
  /** Name of the parameter holding the TLS certificate (PEM; may be a reference). */
  readonly tlsCertificateParameter: string;
  /** Escape the template's literal `${` for Terraform before filling it in. @default false */
  readonly forTerraform?: boolean;
}

/** Renders ollama-proxy-config, the script that puts the key from SSM into nginx's configuration. Pure. */
export function renderProxyConfigScript(values: ProxyConfigValues): string {
  for (const name of ["apiKeyParameter", "tlsKeyParameter", "tlsCertificateParameter"] as const) {
    const value = values[name];
    const reference = isToken(value) || /^\$\{[\w.]+\}$/.test(value);
    if (!reference && !/^[A-Za-z0-9_./-]+$/.test(value)) {
      throw new Error(`invalid ${name}: got ${JSON.stringify(value)}; allowed: an SSM parameter name such as /ollama-server/api-key`);
    }
  }
  const template = values.forTerraform ? escapeForTerraform(PROXY_CONFIG_TEMPLATE) : PROXY_CONFIG_TEMPLATE;
  return fillPlaceholders(template, {
    api_key_parameter: values.apiKeyParameter,
    tls_key_parameter: values.tlsKeyParameter,
    tls_certificate_parameter: values.tlsCertificateParameter,
    tls_dir: TLS_DIR,
    api_key_marker: API_KEY_MARKER,
    refresh_minutes: String(API_KEY_REFRESH_MINUTES),
  });
}

/** The Linux amd64 archive of an Ollama release: .tar.zst from 0.14.0 on, .tgz before. Pure. */
export function ollamaArchiveName(version: string): string {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > 0 || minor >= 14 ? "ollama-linux-amd64.tar.zst" : "ollama-linux-amd64.tgz";
}

/** Values of {@link renderInstallScript}. */
export interface InstallValues {
  /** Release number, e.g. "0.18.2" (PATTERNS.ollamaVersion). */
  readonly version: string;
  /** SHA-256 of its archive (64 hex digits), or "" to take the release's sha256sum.txt. */
  readonly sha256: string;
  /** Escape the template's literal `${` for Terraform before filling it in. @default false */
  readonly forTerraform?: boolean;
}

/** Renders ollama-install, which installs the pinned release after checking its SHA-256. Pure. */
export function renderInstallScript(values: InstallValues): string {
  if (!PATTERNS.ollamaVersion.test(values.version)) throw new Error(`invalid ollamaVersion: got ${JSON.stringify(values.version)}; allowed: an ollama release such as 0.18.2`);
  if (!/^([0-9a-f]{64})?$/.test(values.sha256)) throw new Error(`invalid ollamaSha256: got ${JSON.stringify(values.sha256)}; allowed: 64 lowercase hexadecimal digits, or empty`);
  const template = values.forTerraform ? escapeForTerraform(INSTALL_TEMPLATE) : INSTALL_TEMPLATE;
  return fillPlaceholders(template, { ollama_version: values.version, ollama_archive: ollamaArchiveName(values.version), ollama_sha256: values.sha256 });
}

/** Where the instance keeps whisper.cpp's model files (read-only for the whisper user). */
export const WHISPER_MODELS_DIR = "/var/lib/whisper/models";
/** Where whisper-install puts ffmpeg and whisper-server on the instance. */
export const WHISPER_BIN_DIR = "/usr/local/bin";

/** A pinned source release: its number and the SHA-256 of its archive. */
export interface SourceRelease {
  readonly version: string;
  readonly sha256: string;
}

/** Values of {@link renderWhisperInstallScript}. */
export interface WhisperInstallValues {
  /** The whisper.cpp release (1.8.3 or later) and the SHA-256 of its GitHub source tar.gz: never empty. */
  readonly whisper: SourceRelease;
  /** The FFmpeg release and the SHA-256 of its ffmpeg-<version>.tar.xz: never empty. */
  readonly ffmpeg: SourceRelease;
  /** The whisper.cpp model, a name of WHISPER_MODELS (its SHA-1 comes from there). */
  readonly model: string;
  /** Bucket keeping the model between instances (may be a Terraform reference). */
  readonly bucket: string;
  /** Key prefix of whisper.cpp's models in it, ending in "/" (WHISPER_MODELS_PREFIX). */
  readonly modelsPrefix: string;
  /** Escape the template's literal `${` for Terraform before filling it in. @default false */
  readonly forTerraform?: boolean;
}

/** A whisper.cpp model name of WHISPER_MODELS, or a thrown error naming the setting. */
function checkedWhisperModel(model: string): string {
  if (!Object.hasOwn(WHISPER_MODELS, model)) throw new Error(`invalid transcriptionModel: got ${JSON.stringify(model)}; allowed: ${Object.keys(WHISPER_MODELS).join(", ")}`);
  return model;
}

/**
 * Renders whisper-install, which builds ffmpeg and whisper.cpp's server from their pinned sources
 * after checking both SHA-256, and fetches the model (from S3, else Hugging Face) checked against
 * whisper.cpp's SHA-1. Refuses an empty SHA-256: no checksum file exists to fall back on. Pure.
 */
export function renderWhisperInstallScript(values: WhisperInstallValues): string {
  const { whisper, ffmpeg } = values;
  if (!RELEASE_VERSION_PATTERN.test(whisper.version) || !isAtLeast(whisper.version, WHISPER_MIN_VERSION)) {
    throw new Error(`invalid whisperVersion: got ${JSON.stringify(whisper.version)}; allowed: a whisper.cpp release from ${WHISPER_MIN_VERSION} on`);
  }
  if (!FFMPEG_VERSION_PATTERN.test(ffmpeg.version)) throw new Error(`invalid ffmpegVersion: got ${JSON.stringify(ffmpeg.version)}; allowed: an ffmpeg release such as 8.1.3`);
  for (const [name, sha256] of [["whisperSha256", whisper.sha256], ["ffmpegSha256", ffmpeg.sha256]] as const) {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`invalid ${name}: got ${JSON.stringify(sha256)}; allowed: 64 lowercase hexadecimal digits (nothing unverified is built)`);
  }
  const model = checkedWhisperModel(values.model);
  if (!isToken(values.modelsPrefix) && !/^([A-Za-z0-9_.-]+\/)+$/.test(values.modelsPrefix)) {
    throw new Error(`invalid modelsPrefix: got ${JSON.stringify(values.modelsPrefix)}; allowed: an s3 key prefix ending in "/"`);
  }
  const template = values.forTerraform ? escapeForTerraform(WHISPER_INSTALL_TEMPLATE) : WHISPER_INSTALL_TEMPLATE;
  return fillPlaceholders(template, {
    whisper_version: whisper.version,
    whisper_sha256: whisper.sha256,
    ffmpeg_version: ffmpeg.version,
    ffmpeg_sha256: ffmpeg.sha256,
    model,
    model_sha1: WHISPER_MODELS[model]!,
    bucket: values.bucket,
    models_prefix: values.modelsPrefix,
    models_dir: WHISPER_MODELS_DIR,
  });
}

/** Values of {@link renderWhisperUnit}. */
export interface WhisperUnitValues {
  /** Port whisper.cpp's server binds on 127.0.0.1. */
  readonly port: number;
  /** The whisper.cpp model it loads, a name of WHISPER_MODELS. */
  readonly model: string;
}

/**
 * Renders whisper.service: whisper-server on 127.0.0.1 only, serving TRANSCRIPTION_PATH with
 * --convert, as the unprivileged whisper user in a read-only, loopback-only sandbox. Pure.
 */
export function renderWhisperUnit(values: WhisperUnitValues): string {
  return fillPlaceholders(WHISPER_UNIT_TEMPLATE, {
    bin_dir: WHISPER_BIN_DIR,
    port: String(checkedPort("transcriptionPort", values.port)),
    path: TRANSCRIPTION_PATH,
    model_file: `${WHISPER_MODELS_DIR}/ggml-${checkedWhisperModel(values.model)}.bin`,
  });
}

/** Voice transcription on the instance: whisper.cpp's server, its model and the sources it is built from. */
export interface TranscriptionValues {
  /** The whisper.cpp model, a name of WHISPER_MODELS. */
  readonly model: string;
  /** The whisper.cpp release and its source archive's SHA-256 (never empty). */
  readonly whisper: SourceRelease;
  /** The FFmpeg release and its archive's SHA-256 (never empty). */
  readonly ffmpeg: SourceRelease;
  /** Port whisper.cpp's server binds on 127.0.0.1. */
  readonly port: number;
}

/** The user data's voice part: build tools, whisper-install, the whisper user and unit, then the install. Pure. */
function renderTranscriptionSetup(values: TranscriptionValues, bucket: string, modelsPrefix: string): string {
  return fillPlaceholders(escapeForTerraform(TRANSCRIPTION_SETUP_TEMPLATE), {
    whisper_version: values.whisper.version,
    model: values.model,
    port: String(values.port),
    install_script: renderWhisperInstallScript({ ...values, bucket, modelsPrefix, forTerraform: true }).trimEnd(),
    unit: escapeForTerraform(renderWhisperUnit(values)).trimEnd(),
  });
}

/** Values of {@link renderUserData}. */
export interface UserDataValues {
  /** Bucket holding the model files (may be a Terraform reference). */
  readonly bucket: string;
  /** Key prefix of the model files, ending in "/". */
  readonly modelsPrefix: string;
  /** Models to pull, each matching PATTERNS.model (so they are safe in the script). */
  readonly models: readonly string[];
  /** Port nginx listens on. */
  readonly proxyPort: number;
  /** Port Ollama binds on 127.0.0.1. */
  readonly internalPort: number;
  /**
   * Name of the SecureString parameter holding the API key (or a Terraform reference to it):
   * the instance reads the key from there each time nginx starts, so the user data holds no key.
   */
  readonly apiKeyParameter: string;
  /** Name of the SecureString parameter holding the proxy's TLS private key (or a reference). */
  readonly tlsKeyParameter: string;
  /** Name of the parameter holding the proxy's TLS certificate (or a reference). */
  readonly tlsCertificateParameter: string;
  /** The Ollama release to install and its archive's SHA-256 ("" : the release's sha256sum.txt). */
  readonly ollama: { readonly version: string; readonly sha256: string };
  /** Generations Ollama runs at once (OLLAMA_NUM_PARALLEL). */
  readonly numParallel: number;
  /** Requests Ollama holds waiting beyond those before it answers 503 (OLLAMA_MAX_QUEUE). */
  readonly maxQueue: number;
  /**
   * Key prefix of whisper.cpp's models, under modelsPrefix (WHISPER_MODELS_PREFIX): left out of
   * Ollama's sync either way, so turning voice off never deletes the copy in S3.
   * @default WHISPER_MODELS_PREFIX ("models/whisper/")
   */
  readonly whisperModelsPrefix?: string;
  /** Voice transcription to install. @default - none: no whisper.cpp, no ffmpeg, no transcription route */
  readonly transcription?: TranscriptionValues;
}

/**
 * Renders the instance's user data for Terraform: the script template with its literal
 * `${` escaped, then the values (references stay `${...}` references). Pure.
 */
export function renderUserData(values: UserDataValues): string {
  if (values.models.length === 0) throw new Error("invalid models: got []; allowed: a non-empty list of ollama model names");
  for (const model of values.models) {
    if (!PATTERNS.model.test(model)) throw new Error(`invalid models: got ${JSON.stringify(model)}; allowed: ollama model names such as llama3.2:1b`);
  }
  for (const [name, value] of [["numParallel", values.numParallel], ["maxQueue", values.maxQueue]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`invalid ${name}: got ${JSON.stringify(value)}; allowed: a whole number of at least 1`);
  }
  const whisperModelsPrefix = values.whisperModelsPrefix ?? WHISPER_MODELS_PREFIX;
  if (!whisperModelsPrefix.startsWith(values.modelsPrefix) || whisperModelsPrefix === values.modelsPrefix) {
    throw new Error(`invalid whisperModelsPrefix: got ${JSON.stringify(whisperModelsPrefix)}; allowed: a prefix under ${JSON.stringify(values.modelsPrefix)}`);
  }
  const nginx = renderNginxConfig({
    listen: String(values.proxyPort),
    upstreamPort: values.internalPort,
    transcriptionPort: values.transcription?.port,
    apiKey: API_KEY_MARKER,
    forTerraform: true,
  });
  return fillPlaceholders(escapeForTerraform(USER_DATA_TEMPLATE), {
    bucket: values.bucket,
    models_prefix: values.modelsPrefix,
    internal_port: String(values.internalPort),
    num_parallel: String(values.numParallel),
    max_queue: String(values.maxQueue),
    proxy_port: String(values.proxyPort),
    models: values.models.map((m) => `"${m}"`).join(" "),
    nginx_config: nginx.trimEnd(),
    api_key_parameter: values.apiKeyParameter,
    refresh_minutes: String(API_KEY_REFRESH_MINUTES),
    install_script: renderInstallScript({ ...values.ollama, forTerraform: true }).trimEnd(),
    proxy_config_script: renderProxyConfigScript({
      apiKeyParameter: values.apiKeyParameter,
      tlsKeyParameter: values.tlsKeyParameter,
      tlsCertificateParameter: values.tlsCertificateParameter,
      forTerraform: true,
    }).trimEnd(),
    whisper_models_exclude: `${whisperModelsPrefix.slice(values.modelsPrefix.length)}*`,
    transcription_setup: values.transcription
      ? renderTranscriptionSetup(values.transcription, values.bucket, whisperModelsPrefix)
      : "# No voice transcription on this instance: transcriptionModel is empty, or whisperSha256 or ffmpegSha256 is not set.",
  });
}
