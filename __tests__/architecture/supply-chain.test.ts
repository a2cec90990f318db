import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../support/source-metrics";

const WORKFLOWS = join(REPO_ROOT, ".github", "workflows");

describe("supply chain", () => {
  const uses = readdirSync(WORKFLOWS)
    .filter((name) => name.endsWith(".yml"))
    .flatMap((name) =>
      readFileSync(join(WORKFLOWS, name), "utf8")
        .split("\n")
        .filter((line) => /^\s*-?\s*uses:/.test(line))
        .map((line) => ({ file: name, line: line.trim() })),
    );

  it("finds the workflows' actions", () => {
    expect(uses.length).toBeGreaterThan(5);
  });

  it("pins every GitHub Action to a full commit SHA, with its release in a comment", () => {
    const loose = uses.filter(({ line }) => !/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/.test(line.replace(/^-\s*/, "")));
    expect(loose).toEqual([]);
  });

  it("has Dependabot update npm and the Actions", () => {
    const config = readFileSync(join(REPO_ROOT, ".github", "dependabot.yml"), "utf8");
    expect(config).toMatch(/package-ecosystem: npm/);
    expect(config).toMatch(/package-ecosystem: github-actions/);
  });

  it("pins cdktf and every provider to an exact version", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    const all = { ...pkg.dependencies, ...pkg.devDependencies };
    const cdktf = Object.entries(all).filter(([name]) => name === "cdktf" || name === "cdktf-cli" || name.startsWith("@cdktf/"));
    expect(cdktf.length).toBeGreaterThanOrEqual(4);
    expect(cdktf.filter(([, version]) => !/^\d+\.\d+\.\d+$/.test(version))).toEqual([]);
  });
});
