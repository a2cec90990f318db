/**
 * Measures the project's own TypeScript sources with the compiler's parser: line counts per
 * file and per function (declarations, methods, accessors, arrow functions and function
 * expressions), so the layout rules of CONTRIBUTING.md are checked, not only written down.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

/** The repository root. */
export const REPO_ROOT = join(__dirname, "..", "..");

/** One function longer than a limit. */
export interface LongFunction {
  readonly file: string;
  readonly name: string;
  readonly lines: number;
}

/** The .ts files under `dir` (relative to the repository root), without declarations or generated code. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs)) {
      const path = join(abs, name);
      if (statSync(path).isDirectory()) {
        if (name !== "node_modules" && name !== "generated") walk(path);
      } else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) {
        out.push(relative(REPO_ROOT, path));
      }
    }
  };
  walk(join(REPO_ROOT, dir));
  return out.sort();
}

/** Lines of a file. */
export function lineCount(file: string): number {
  return readFileSync(join(REPO_ROOT, file), "utf8").split("\n").length;
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  return `<anonymous at line ${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}>`;
}

/** Every function of `file` whose body spans more than `maxLines` lines. */
export function longFunctions(file: string, maxLines: number): LongFunction[] {
  const text = readFileSync(join(REPO_ROOT, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > maxLines) found.push({ file, name: nameOf(node, source), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
