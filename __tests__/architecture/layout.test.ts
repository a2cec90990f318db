import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, lineCount, longFunctions, sourceFiles } from "../support/source-metrics";

/** The limits of CONTRIBUTING.md → "Where things live". */
const MAX_FILE_LINES = 450;
const FUNCTION_LIMITS: readonly (readonly [string, number])[] = [
  ["handler", 80],
  ["local", 80],
  ["config", 80],
  ["scripts", 120],
  ["constructs", 120],
];

describe("source layout", () => {
  const roots = ["handler", "local", "config", "constructs", "scripts", "bench", "build", "backend-setup"];

  it(`keeps every source file at or under ${MAX_FILE_LINES} lines`, () => {
    const files = [...roots.flatMap(sourceFiles), "main.ts"];
    const long = files.map((file) => ({ file, lines: lineCount(file) })).filter((f) => f.lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it.each(FUNCTION_LIMITS)("keeps every function in %s/ at or under %i lines", (dir, limit) => {
    expect(sourceFiles(dir).flatMap((file) => longFunctions(file, limit))).toEqual([]);
  });

  it("keeps every function in main.ts at or under 80 lines", () => {
    expect(longFunctions("main.ts", 80)).toEqual([]);
  });

  it("has at most 4 TypeScript files at handler/'s top level", () => {
    const top = readdirSync(join(REPO_ROOT, "handler")).filter(
      (name) => name.endsWith(".ts") && statSync(join(REPO_ROOT, "handler", name)).isFile(),
    );
    expect(top.length).toBeLessThanOrEqual(4);
  });

  it("opens each handler/ folder with a README comment saying what it owns and may import", () => {
    const folders = readdirSync(join(REPO_ROOT, "handler")).filter(
      (name) => name !== "generated" && statSync(join(REPO_ROOT, "handler", name)).isDirectory(),
    );
    const missing = folders.filter((folder) => {
      const file = join(REPO_ROOT, "handler", folder, "README.md");
      return !existsSync(file) || !/may import/i.test(readFileSync(file, "utf8"));
    });
    expect(missing).toEqual([]);
  });
});

/**
 * Which handler/ folders each folder may import (the "May import" line of its README); "top"
 * is handler/config.ts. Lower layers never import higher ones.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  net: [],
  observability: ["top"],
  telegram: ["net", "observability", "top"],
  model: ["net", "observability", "top"],
  store: ["net", "observability", "generated", "top"],
  format: ["store"],
  chat: ["conversation", "store", "model", "telegram", "format", "net", "observability", "top"],
  commands: ["conversation", "chat", "store", "telegram", "format", "net", "observability", "top"],
  conversation: ["chat", "commands", "store", "model", "telegram", "format", "net", "observability", "top"],
  delivery: ["conversation", "store", "telegram", "format", "net", "observability", "top"],
};

describe("handler/ layering", () => {
  it.each(Object.keys(MAY_IMPORT))("%s/ imports only what its README allows", (folder) => {
    const allowed = new Set([folder, ...MAY_IMPORT[folder]!]);
    const offending = sourceFiles(`handler/${folder}`).flatMap((file) =>
      importedHandlerFolders(file)
        .filter((target) => !allowed.has(target))
        .map((target) => `${file} imports handler/${target}`),
    );
    expect(offending).toEqual([]);
  });
});

/** The handler/ folders a file imports ("top" for handler/*.ts), from its relative imports. */
function importedHandlerFolders(file: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), "utf8");
  const handlerRoot = join(REPO_ROOT, "handler");
  const folders = new Set<string>();
  for (const match of text.matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
    const target = join(REPO_ROOT, file, "..", match[1]!);
    if (!target.startsWith(`${handlerRoot}/`)) continue;
    const rest = target.slice(handlerRoot.length + 1);
    folders.add(rest.includes("/") ? rest.split("/")[0]! : "top");
  }
  return [...folders];
}
