import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WHISPER_MODELS } from "../../../config/releases";
import { renderWhisperInstallScript, type WhisperInstallValues } from "../../../constructs/ollama-server/render";

const WHISPER_VERSION = "1.8.7";
const FFMPEG_VERSION = "8.1.3";
const BUCKET = "chatbot-conversations-123456789012";
const WHISPER_URL = `https://github.com/ggml-org/whisper.cpp/archive/refs/tags/v${WHISPER_VERSION}.tar.gz`;
const FFMPEG_URL = `https://ffmpeg.org/releases/ffmpeg-${FFMPEG_VERSION}.tar.xz`;
const MODEL_URL = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-base.bin";
const MODEL_KEY = "models/whisper/ggml-base.bin";

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
const sha1 = (data: Buffer | string) => createHash("sha1").update(data).digest("hex");

/**
 * whisper-install run for real with bash, tar, xz and the checksum tools, against stand-ins: a
 * `curl` serving fake source archives and a fake model from a folder, an `aws` whose S3 is a
 * folder, and a `make` and `cmake` that record their arguments and leave a fake binary where
 * the real build would. Every stand-in logs its call to one file, in order.
 */
describe("whisper-install: ffmpeg and whisper.cpp built from pinned, verified sources, and a checked model", () => {
  let dir: string;
  let served: string;
  let ffmpegSha256: string;
  let whisperSha256: string;
  const model = "fake model weights\n";

  function tarball(name: string, files: Record<string, string>, compress: "-J" | "-z"): Buffer {
    const root = join(dir, "src", name);
    mkdirSync(root, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      writeFileSync(join(root, file), text);
      chmodSync(join(root, file), 0o755);
    }
    const out = join(dir, `${name}.tar`);
    const made = spawnSync("tar", [compress, "-cf", out, "-C", join(dir, "src"), name]);
    if (made.status !== 0) throw new Error(made.stderr.toString());
    return readFileSync(out);
  }

  function standIn(name: string, body: string): void {
    writeFileSync(join(dir, "bin", name), `#!/bin/bash\necho "${name} $*" >> "${join(dir, "calls")}"\n${body}\n`);
    chmodSync(join(dir, "bin", name), 0o755);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "whisper-install-"));
    served = join(dir, "served");
    mkdirSync(served);
    mkdirSync(join(dir, "bin"));
    // ffmpeg's configure is the archive's own script: the fake one records its options.
    const ffmpeg = tarball(`ffmpeg-${FFMPEG_VERSION}`, { configure: `#!/bin/bash\necho "configure $*" >> "${join(dir, "calls")}"\n` }, "-J");
    const whisper = tarball(`whisper.cpp-${WHISPER_VERSION}`, { "CMakeLists.txt": "project(whisper)\n" }, "-z");
    ffmpegSha256 = sha256(ffmpeg);
    whisperSha256 = sha256(whisper);
    writeFileSync(join(served, "ffmpeg.tar.xz"), ffmpeg);
    writeFileSync(join(served, "whisper.tar.gz"), whisper);
    writeFileSync(join(served, "ggml-base.bin"), model);
    // curl -fsSL --retry 3 -o <file> <url>: only the pinned URLs are served.
    standIn(
      "curl",
      `out="$5"; url="$6"
case "$url" in
  "${FFMPEG_URL}") src="${served}/ffmpeg.tar.xz" ;;
  "${WHISPER_URL}") src="${served}/whisper.tar.gz" ;;
  "${MODEL_URL}") src="${served}/ggml-base.bin" ;;
  *) src="" ;;
esac
if [ -n "$src" ] && [ -f "$src" ]; then cp "$src" "$out"; else echo "curl: (22) 404 $url" >&2; exit 22; fi`,
    );
    // aws s3 cp --only-show-errors <from> <to>, S3 being the folder s3/.
    standIn(
      "aws",
      `from="$4"; to="$5"
local_of() { echo "${join(dir, "s3")}/\${1#s3://}"; }
if [[ "$from" == s3://* ]]; then
  [ -f "$(local_of "$from")" ] || { echo "fatal error: 404 $from" >&2; exit 1; }
  cp "$(local_of "$from")" "$to"
else
  mkdir -p "$(dirname "$(local_of "$to")")"; cp "$from" "$(local_of "$to")"
fi`,
    );
    standIn("make", `printf '#!/bin/sh\\necho fake ffmpeg\\n' > ffmpeg; chmod 755 ffmpeg`);
    standIn(
      "cmake",
      `if [ "$1" = "--build" ]; then mkdir -p "$2/bin"; printf '#!/bin/sh\\necho fake whisper-server\\n' > "$2/bin/whisper-server"; chmod 755 "$2/bin/whisper-server"; fi`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function values(overrides: Partial<WhisperInstallValues> = {}): WhisperInstallValues {
    return {
      whisper: { version: WHISPER_VERSION, sha256: whisperSha256 },
      ffmpeg: { version: FFMPEG_VERSION, sha256: ffmpegSha256 },
      model: "base",
      bucket: BUCKET,
      modelsPrefix: "models/whisper/",
      ...overrides,
    };
  }

  /** Runs the script as rendered, with the fake model's SHA-1 in place of whisper.cpp's (unless told otherwise). */
  function install(options: { values?: Partial<WhisperInstallValues>; modelSha1?: string; edit?: (script: string) => string; inS3?: string } = {}) {
    rmSync(join(dir, "calls"), { force: true });
    rmSync(join(dir, "s3"), { recursive: true, force: true });
    if (options.inS3 !== undefined) {
      mkdirSync(join(dir, "s3", BUCKET, "models", "whisper"), { recursive: true });
      writeFileSync(join(dir, "s3", BUCKET, MODEL_KEY), options.inS3);
    }
    const prefix = mkdtempSync(join(dir, "prefix-"));
    const models = join(prefix, "models");
    const work = mkdtempSync(join(dir, "tmp-"));
    let script = renderWhisperInstallScript(values(options.values));
    script = script.replace(`MODEL_SHA1="${WHISPER_MODELS.base}"`, `MODEL_SHA1="${options.modelSha1 ?? sha1(model)}"`);
    if (options.edit) script = options.edit(script);
    const file = join(dir, "whisper-install");
    writeFileSync(file, script);
    const run = spawnSync("bash", [file, prefix, models], {
      encoding: "utf8",
      env: { PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}`, TMPDIR: work },
    });
    const calls = existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8").trimEnd().split("\n") : [];
    return { run, prefix, models, calls, leftovers: readdirSync(work) };
  }

  it("downloads the pinned releases from their projects and the model from Hugging Face, builds, and keeps the model in S3", () => {
    const { run, prefix, models, calls, leftovers } = install();
    // The only complaint is aws's, about the copy not yet in S3.
    expect(run.stderr).toBe(`fatal error: 404 s3://${BUCKET}/${MODEL_KEY}\n`);
    expect(run.status).toBe(0);
    expect(calls.filter((c) => c.startsWith("curl")).map((c) => c.split(" ").at(-1))).toEqual([FFMPEG_URL, WHISPER_URL, MODEL_URL]);
    expect(readFileSync(join(prefix, "bin", "ffmpeg"), "utf8")).toContain("fake ffmpeg");
    expect(readFileSync(join(prefix, "bin", "whisper-server"), "utf8")).toContain("fake whisper-server");
    expect(readFileSync(join(models, "ggml-base.bin"), "utf8")).toBe(model);
    expect(readFileSync(join(dir, "s3", BUCKET, MODEL_KEY), "utf8")).toBe(model);
    expect(run.stdout).toContain(`installed ffmpeg ${FFMPEG_VERSION} and whisper-server v${WHISPER_VERSION}`);
    expect(leftovers).toEqual([]);
    expect(readdirSync(models)).toEqual(["ggml-base.bin"]);
  });

  it("checks both archives' SHA-256 before anything is unpacked or built", () => {
    const { calls } = install();
    const firstBuild = calls.findIndex((c) => /^(configure|make|cmake)/.test(c));
    expect(firstBuild).toBeGreaterThan(calls.findIndex((c) => c.endsWith(WHISPER_URL)));
  });

  it.each([
    ["ffmpeg", { ffmpeg: { version: FFMPEG_VERSION, sha256: "f".repeat(64) } }, FFMPEG_URL],
    ["whisper.cpp", { whisper: { version: WHISPER_VERSION, sha256: "f".repeat(64) } }, WHISPER_URL],
  ])("refuses a %s archive whose SHA-256 is not the pinned one: nothing built, nothing installed", (_name, overrides, url) => {
    const { run, prefix, calls, leftovers } = install({ values: overrides });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`${url} has SHA-256 `);
    expect(run.stderr).toContain(`expected ${"f".repeat(64)}; nothing installed`);
    expect(calls.filter((c) => /^(configure|make|cmake|aws)/.test(c))).toEqual([]);
    expect(existsSync(join(prefix, "bin"))).toBe(false);
    expect(leftovers).toEqual([]);
  });

  it("fails closed without a pinned SHA-256, downloading nothing (the renderer refuses one too)", () => {
    const { run, calls } = install({ edit: (script) => script.replace(/^WHISPER_SHA256=".*"$/m, 'WHISPER_SHA256=""') });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`no SHA-256 is pinned for ${WHISPER_URL}; nothing installed`);
    expect(calls.filter((c) => c.endsWith(WHISPER_URL) || /^(configure|make|cmake)/.test(c))).toEqual([]);
    expect(() => renderWhisperInstallScript(values({ whisper: { version: WHISPER_VERSION, sha256: "" } }))).toThrow(/invalid whisperSha256: got ""/);
    expect(() => renderWhisperInstallScript(values({ ffmpeg: { version: FFMPEG_VERSION, sha256: "" } }))).toThrow(/invalid ffmpegSha256: got ""/);
  });

  it("builds an audio-only ffmpeg without assembly and a static whisper-server, and installs nothing else", () => {
    const { calls, prefix } = install();
    const configure = calls.find((c) => c.startsWith("configure"))!;
    expect(configure).toContain("--disable-everything");
    expect(configure).toContain("--disable-network");
    expect(configure).toContain("--enable-demuxer=ogg,");
    expect(configure).toContain("--enable-decoder=opus,");
    expect(configure).toContain("--enable-encoder=pcm_s16le --enable-muxer=wav");
    expect(calls.find((c) => c.startsWith("cmake -S"))).toMatch(
      / -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_BUILD_SERVER=ON$/,
    );
    expect(calls.find((c) => c.startsWith("cmake --build"))).toMatch(/--target whisper-server -j \d+$/);
    expect(readdirSync(join(prefix, "bin")).sort()).toEqual(["ffmpeg", "whisper-server"]);
  });

  it("restores the model from S3 when it is there and whisper.cpp's file, without downloading it", () => {
    const { run, models, calls } = install({ inS3: model });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`restored ${join(models, "ggml-base.bin")} from s3://${BUCKET}/${MODEL_KEY}`);
    expect(calls.filter((c) => c.endsWith(MODEL_URL))).toEqual([]);
    expect(calls.filter((c) => c.startsWith("aws"))).toEqual([`aws s3 cp --only-show-errors s3://${BUCKET}/${MODEL_KEY} ${join(models, ".ggml-base.bin.partial")}`]);
    expect(readFileSync(join(models, "ggml-base.bin"), "utf8")).toBe(model);
  });

  it("downloads the model again when the copy in S3 is not whisper.cpp's file, and replaces it", () => {
    const { run, models } = install({ inS3: "tampered" });
    expect(run.status).toBe(0);
    expect(readFileSync(join(models, "ggml-base.bin"), "utf8")).toBe(model);
    expect(readFileSync(join(dir, "s3", BUCKET, MODEL_KEY), "utf8")).toBe(model);
  });

  it("refuses a downloaded model whose SHA-1 is not whisper.cpp's: not installed, not kept in S3", () => {
    const { run, models, leftovers } = install({ modelSha1: "0".repeat(40) });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`${MODEL_URL} has SHA-1 ${sha1(model)}, expected ${"0".repeat(40)}`);
    expect(readdirSync(models)).toEqual([]);
    expect(existsSync(join(dir, "s3", BUCKET, MODEL_KEY))).toBe(false);
    expect(leftovers).toEqual([]);
  });

  it("takes each model's SHA-1 from whisper.cpp's list", () => {
    const script = renderWhisperInstallScript(values({ model: "small" }));
    expect(script).toContain(`MODEL_SHA1="${WHISPER_MODELS.small}"`);
    expect(script).toContain('MODEL="small"');
  });

  it("refuses values that could break the script", () => {
    expect(() => renderWhisperInstallScript(values({ model: "base; reboot" }))).toThrow(/invalid transcriptionModel: got "base; reboot"/);
    expect(() => renderWhisperInstallScript(values({ whisper: { version: "1.8.7; reboot", sha256: whisperSha256 } }))).toThrow(/invalid whisperVersion/);
    expect(() => renderWhisperInstallScript(values({ whisper: { version: "1.8.2", sha256: whisperSha256 } }))).toThrow(/invalid whisperVersion: got "1.8.2"; allowed: a whisper.cpp release from 1.8.3 on/);
    expect(() => renderWhisperInstallScript(values({ ffmpeg: { version: "8.x", sha256: ffmpegSha256 } }))).toThrow(/invalid ffmpegVersion/);
    expect(() => renderWhisperInstallScript(values({ ffmpeg: { version: FFMPEG_VERSION, sha256: "ABC" } }))).toThrow(/invalid ffmpegSha256/);
    expect(() => renderWhisperInstallScript(values({ modelsPrefix: "models/whisper" }))).toThrow(/invalid modelsPrefix/);
  });
});
