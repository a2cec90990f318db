/**
 * What the Ollama instance downloads and how each download is checked: the Ollama release, the
 * whisper.cpp and FFmpeg source releases its transcription server is built from, and the
 * whisper.cpp model. The pins themselves are in config/defaults.ts; their settings are declared
 * and validated here (config/stack-config.ts includes them in the stack's configuration). Pure;
 * no cdktf.
 */
import { DEFAULT_TRANSCRIPTION_MODEL, FFMPEG_RELEASE, OLLAMA_RELEASE, WHISPER_RELEASE } from "./defaults";
import { fail, matching } from "./setting-checks";

/** An Ollama or whisper.cpp release number, as its GitHub tag has it after the "v". */
export const RELEASE_VERSION_PATTERN = /^\d{1,3}\.\d{1,3}\.\d{1,3}$/;
/** An FFmpeg release number, as its archive is named: 8.1 or 8.1.3. */
export const FFMPEG_VERSION_PATTERN = /^\d{1,2}\.\d{1,2}(\.\d{1,2})?$/;
/** A SHA-256 setting: 64 lowercase hexadecimal digits, or "" for none. */
export const SHA256_SETTING_PATTERN = /^([0-9a-f]{64})?$/;
/** The oldest whisper.cpp release whose server has every option the instance passes (--tmp-dir came with 1.8.3). */
export const WHISPER_MIN_VERSION = "1.8.3";

/**
 * The whisper.cpp models `transcriptionModel` may name, each with the SHA-1 whisper.cpp publishes
 * for its file (models/README.md, the same from v1.8.7 to v1.9.3). The instance uses the file
 * (ggml-<name>.bin from Hugging Face's ggerganov/whisper.cpp, or its copy in S3) only when its
 * SHA-1 is this one. Names with `.en` are English only; the others detect the language.
 */
export const WHISPER_MODELS: Readonly<Record<string, string>> = /* @__PURE__ */ Object.freeze({
  tiny: "bd577a113a864445d4c299885e0cb97d4ba92b5f",
  "tiny.en": "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
  base: "465707469ff3a37a2b9b8d8f89f2f99de7299dac",
  "base.en": "137c40403d78fd54d454da0f9bd998f78703390c",
  small: "55356645c2b361a969dfd0ef2c5a50d530afd8d5",
  "small.en": "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
  medium: "fd9727b6e1217c2f614f9b698455c4ffd82463b4",
  "medium.en": "8c30f0e44ce9560643ebd10bbe50cd20eafd3723",
  "large-v1": "b1caaf735c4cc1429223d5a74f0f4d0b9b59a299",
  "large-v2": "0f4c8e34f21cf1a914c59d8b3ce882345ad349d6",
  "large-v2-q5_0": "00e39f2196344e901b3a2bd5814807a769bd1630",
  "large-v3": "ad82bf6a9043ceed055076d0fd39f5f186ff8062",
  "large-v3-q5_0": "e6e2ed78495d403bef4b7cff42ef4aaadcfea8de",
  "large-v3-turbo": "4af2b29d7ec73d781377bfd1758ca957a807e941",
  "large-v3-turbo-q5_0": "e050f7970618a659205450ad97eb95a18d69c9ee",
});

/** The download settings of the stack (part of StackConfig). */
export interface ReleaseSettings {
  /** The Ollama release the instance installs (from GitHub's releases, not `curl | sh`). @default OLLAMA_RELEASE.version */
  readonly ollamaVersion: string;
  /**
   * SHA-256 of that release's Linux amd64 archive (the line of its sha256sum.txt): the instance
   * installs nothing else. Empty: the instance takes the hash from the release's own
   * sha256sum.txt, and synth warns that the download is not pinned. @default ""
   */
  readonly ollamaSha256: string;
  /**
   * The whisper.cpp model of voice transcription on the instance (a name of WHISPER_MODELS), passed
   * to the function as TRANSCRIPTION_MODEL; "" for no transcription server on the instance.
   * @default DEFAULT_TRANSCRIPTION_MODEL ("base")
   */
  readonly transcriptionModel: string;
  /** The whisper.cpp release the transcription server is built from (1.8.3 or later). @default WHISPER_RELEASE.version */
  readonly whisperVersion: string;
  /**
   * SHA-256 of that release's source archive (GitHub's tar.gz of the tag). whisper.cpp publishes
   * no checksum file, so nothing else can vouch for it: empty, the instance installs no
   * transcription server and synth warns that voice is off. @default WHISPER_RELEASE.sha256 for WHISPER_RELEASE.version, else ""
   */
  readonly whisperSha256: string;
  /** The FFmpeg release built for whisper.cpp's --convert (Amazon Linux 2023 has no ffmpeg). @default FFMPEG_RELEASE.version */
  readonly ffmpegVersion: string;
  /**
   * SHA-256 of that release's ffmpeg-<version>.tar.xz; empty, as whisperSha256: no transcription
   * server, and a synth warning. @default FFMPEG_RELEASE.sha256 for FFMPEG_RELEASE.version, else ""
   */
  readonly ffmpegSha256: string;
}

/** The download settings as a configuration file may give them: each optional. */
export type ReleaseSettingsInput = { readonly [K in keyof ReleaseSettings]?: ReleaseSettings[K] };

/** True when release `version` (x.y.z) is `minimum` or later. Pure. */
export function isAtLeast(version: string, minimum: string): boolean {
  const [a, b] = [version, minimum].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i += 1) if ((a![i] ?? 0) !== (b![i] ?? 0)) return (a![i] ?? 0) > (b![i] ?? 0);
  return true;
}

function sha256Setting(setting: string, value: unknown, defaultValue: string, allowed: string): string {
  const raw = value ?? defaultValue;
  return matching(setting, typeof raw === "string" ? raw.toLowerCase() : raw, SHA256_SETTING_PATTERN, allowed);
}

/** The download settings, validated and with their defaults (they go into the instance's scripts). Pure. */
export function validateReleases(input: ReleaseSettingsInput): ReleaseSettings {
  const whisperVersion = matching("whisperVersion", input.whisperVersion ?? WHISPER_RELEASE.version, RELEASE_VERSION_PATTERN, `a whisper.cpp release such as ${WHISPER_RELEASE.version}`);
  if (!isAtLeast(whisperVersion, WHISPER_MIN_VERSION)) fail("whisperVersion", whisperVersion, `${WHISPER_MIN_VERSION} or later (older servers lack --tmp-dir)`);
  const ffmpegVersion = matching("ffmpegVersion", input.ffmpegVersion ?? FFMPEG_RELEASE.version, FFMPEG_VERSION_PATTERN, `an ffmpeg release such as ${FFMPEG_RELEASE.version}`);
  const transcriptionModel = input.transcriptionModel ?? DEFAULT_TRANSCRIPTION_MODEL;
  if (typeof transcriptionModel !== "string" || (transcriptionModel !== "" && !Object.hasOwn(WHISPER_MODELS, transcriptionModel))) {
    fail("transcriptionModel", transcriptionModel, `a whisper.cpp model: ${Object.keys(WHISPER_MODELS).join(", ")}; or "" for none`);
  }
  return {
    ollamaVersion: matching("ollamaVersion", input.ollamaVersion ?? OLLAMA_RELEASE.version, RELEASE_VERSION_PATTERN, "an ollama release such as 0.18.2"),
    ollamaSha256: sha256Setting("ollamaSha256", input.ollamaSha256, "", "64 hexadecimal digits (sha256sum.txt of the release), or empty"),
    transcriptionModel,
    whisperVersion,
    // A pinned hash belongs to its own release only: another version needs its own.
    whisperSha256: sha256Setting("whisperSha256", input.whisperSha256, whisperVersion === WHISPER_RELEASE.version ? WHISPER_RELEASE.sha256 : "", "64 hexadecimal digits (of the release's source tar.gz), or empty"),
    ffmpegVersion,
    ffmpegSha256: sha256Setting("ffmpegSha256", input.ffmpegSha256, ffmpegVersion === FFMPEG_RELEASE.version ? FFMPEG_RELEASE.sha256 : "", "64 hexadecimal digits (of ffmpeg-<version>.tar.xz), or empty"),
  };
}

/**
 * The settings that keep voice transcription off the instance although a model is named: the
 * source archives without a pinned SHA-256 (nothing is built unverified). [] when it is on, or
 * when transcriptionModel is "" (off on purpose). Pure.
 */
export function missingTranscriptionPins(settings: Pick<ReleaseSettings, "transcriptionModel" | "whisperSha256" | "ffmpegSha256">): string[] {
  if (settings.transcriptionModel === "") return [];
  return [settings.whisperSha256 === "" ? "whisperSha256" : "", settings.ffmpegSha256 === "" ? "ffmpegSha256" : ""].filter((s) => s !== "");
}

/** True when the instance runs a transcription server with these settings: a model named and both archives pinned. Pure. */
export function transcriptionOnInstance(settings: Pick<ReleaseSettings, "transcriptionModel" | "whisperSha256" | "ffmpegSha256">): boolean {
  return settings.transcriptionModel !== "" && missingTranscriptionPins(settings).length === 0;
}
