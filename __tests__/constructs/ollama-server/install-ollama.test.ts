import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ollamaArchiveName, renderInstallScript } from "../../../constructs/ollama-server/render";

/**
 * ollama-install run for real with bash, tar and sha256sum, against a stand-in `curl` that
 * serves a fake release (an archive holding bin/ollama, and its sha256sum.txt) from a folder.
 */
describe("ollama-install: a pinned Ollama release, verified before it is unpacked", () => {
  const VERSION = "0.13.5"; // a .tgz release: the test needs no zstd
  let dir: string;
  let archive: Buffer;
  let digest: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ollama-install-"));
    const content = join(dir, "content");
    mkdirSync(join(content, "bin"), { recursive: true });
    mkdirSync(join(content, "lib", "ollama"), { recursive: true });
    writeFileSync(join(content, "bin", "ollama"), "#!/bin/sh\necho fake ollama\n");
    writeFileSync(join(content, "lib", "ollama", "libggml.so"), "new library");
    const release = join(dir, "release");
    mkdirSync(release);
    const made = spawnSync("tar", ["-czf", join(release, ollamaArchiveName(VERSION)), "-C", content, "bin", "lib"]);
    if (made.status !== 0) throw new Error(made.stderr.toString());
    archive = readFileSync(join(release, ollamaArchiveName(VERSION)));
    digest = createHash("sha256").update(archive).digest("hex");
    writeFileSync(join(release, "sha256sum.txt"), `${"0".repeat(64)}  ./ollama-darwin.tgz\n${digest}  ./${ollamaArchiveName(VERSION)}\n`);
    const bin = join(dir, "bin");
    mkdirSync(bin);
    // curl -fsSL --retry 3 -o <file> <url>: served from release/ when the URL is the pinned release's.
    writeFileSync(
      join(bin, "curl"),
      `#!/bin/bash
echo "$*" >> "${join(dir, "curl-calls")}"
out="$5"; url="$6"
prefix="https://github.com/ollama/ollama/releases/download/v${VERSION}/"
name="\${url#"$prefix"}"
if [ "$name" != "$url" ] && [ -f "${release}/$name" ]; then cp "${release}/$name" "$out"; else echo "curl: (22) 404 $url" >&2; exit 22; fi
`,
    );
    chmodSync(join(bin, "curl"), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function install(sha256: string, options: { version?: string } = {}) {
    const prefix = mkdtempSync(join(dir, "prefix-"));
    mkdirSync(join(prefix, "lib", "ollama"), { recursive: true });
    writeFileSync(join(prefix, "lib", "ollama", "old.so"), "previous release");
    const script = join(dir, "ollama-install");
    writeFileSync(script, renderInstallScript({ version: options.version ?? VERSION, sha256 }));
    const run = spawnSync("bash", [script, prefix], { encoding: "utf8", env: { PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}` } });
    return { run, prefix };
  }

  it("names the archive as the release has it: .tgz before 0.14.0, .tar.zst from then on", () => {
    expect(ollamaArchiveName("0.13.5")).toBe("ollama-linux-amd64.tgz");
    expect(ollamaArchiveName("0.14.0")).toBe("ollama-linux-amd64.tar.zst");
    expect(ollamaArchiveName("0.18.2")).toBe("ollama-linux-amd64.tar.zst");
    expect(ollamaArchiveName("1.0.0")).toBe("ollama-linux-amd64.tar.zst");
  });

  it("installs the release whose SHA-256 is the configured one, replacing the old libraries", () => {
    const { run, prefix } = install(digest);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(readFileSync(join(prefix, "bin", "ollama"), "utf8")).toContain("fake ollama");
    expect(existsSync(join(prefix, "lib", "ollama", "old.so"))).toBe(false);
    expect(run.stdout).toContain(`installed Ollama v${VERSION}`);
    // Pinned: the release's own list is not even fetched.
    expect(readFileSync(join(dir, "curl-calls"), "utf8")).not.toContain("sha256sum.txt");
  });

  it("refuses an archive whose SHA-256 differs from the configured one, and unpacks nothing", () => {
    const { run, prefix } = install("f".repeat(64));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`expected ${"f".repeat(64)}; nothing installed`);
    expect(existsSync(join(prefix, "bin", "ollama"))).toBe(false);
    expect(existsSync(join(prefix, "lib", "ollama", "old.so"))).toBe(true);
  });

  it("without a configured hash, verifies against the release's sha256sum.txt", () => {
    const { run, prefix } = install("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("verifying against the release's sha256sum.txt");
    expect(existsSync(join(prefix, "bin", "ollama"))).toBe(true);
  });

  it("fails when the release does not exist, installing nothing", () => {
    const { run, prefix } = install(digest, { version: "0.13.6" });
    expect(run.status).not.toBe(0);
    expect(existsSync(join(prefix, "bin", "ollama"))).toBe(false);
  });

  it("refuses values that could break the script", () => {
    expect(() => renderInstallScript({ version: "0.1; reboot", sha256: "" })).toThrow(/invalid ollamaVersion/);
    expect(() => renderInstallScript({ version: "0.18.2", sha256: "abc" })).toThrow(/invalid ollamaSha256/);
  });
});
