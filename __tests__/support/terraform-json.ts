/**
 * Helpers to read synthesized Terraform JSON (cdk.tf.json) in tests: typed access to
 * resources, and the checks every synthesized stack must pass (every `${...}` reference
 * points at something the stack defines).
 */

/** A synthesized block: attribute name to value. */
export type Block = Record<string, unknown>;

/** The parts of a cdk.tf.json the tests look at. */
export interface TerraformJson {
  readonly resource?: Record<string, Record<string, Block>>;
  readonly data?: Record<string, Record<string, Block>>;
  readonly variable?: Record<string, Block>;
  readonly locals?: Record<string, unknown>;
  readonly output?: Record<string, Block>;
  readonly provider?: Record<string, Block[]>;
  readonly terraform?: Block;
}

/** Parses the string Testing.synth / synthScope returns. */
export function parseTf(json: string): TerraformJson {
  return JSON.parse(json) as TerraformJson;
}

/** All resources of one type, by logical id. */
export function resourcesOf(tf: TerraformJson, type: string): Record<string, Block> {
  return tf.resource?.[type] ?? {};
}

/** The one resource of a type; throws when there is not exactly one. */
export function onlyResource(tf: TerraformJson, type: string): Block {
  const all = Object.values(resourcesOf(tf, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** Logical id of the one resource of a type. */
export function onlyResourceId(tf: TerraformJson, type: string): string {
  const ids = Object.keys(resourcesOf(tf, type));
  if (ids.length !== 1) throw new Error(`expected exactly one ${type}, found ${ids.length}`);
  return ids[0];
}

/** Every string anywhere in a JSON value, with its path. */
export function stringsIn(value: unknown, path = "$"): Array<{ path: string; text: string }> {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => stringsIn(v, `${path}.${k}`));
  }
  return [];
}

/**
 * The Terraform expressions (`${...}`, balanced braces) in a string; `$${` is an escaped
 * literal and is skipped.
 */
export function expressionsIn(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length - 1; i++) {
    if (text[i] !== "$" || text[i + 1] !== "{") continue;
    if (i > 0 && text[i - 1] === "$") continue;
    let depth = 0;
    let inString = false;
    let j = i + 1;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === "\\") j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) break;
    }
    out.push(text.slice(i + 2, j));
    i = j;
  }
  return out;
}

/** The references (var.x, local.x, data.t.n, t.n) in one expression, string literals removed. */
export function referencesIn(expression: string): string[] {
  const code = expression.replace(/"(?:\\.|[^"\\])*"/g, '""');
  const refs: string[] = [];
  const pattern = /(?<![\w.])([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?/g;
  for (const m of code.matchAll(pattern)) {
    const [, first, second, third] = m;
    if (first === "data" && third) refs.push(`data.${second}.${third}`);
    else if (first === "var" || first === "local") refs.push(`${first}.${second}`);
    else refs.push(`${first}.${second}`);
  }
  return refs;
}

/** One problem found by {@link unresolvedReferences}. */
export interface ReferenceProblem {
  readonly path: string;
  readonly expression: string;
  readonly problem: string;
}

/**
 * Every `${...}` expression of the document that refers to something the document does not
 * define, or refers to nothing at all (which is how an unescaped shell `${VAR}` shows up).
 * Also returns how many references were checked, so a caller can tell the check was not vacuous.
 */
export function unresolvedReferences(tf: TerraformJson): { problems: ReferenceProblem[]; checked: number } {
  const problems: ReferenceProblem[] = [];
  let checked = 0;
  const defined = (ref: string): boolean => {
    const parts = ref.split(".");
    if (parts[0] === "var") return tf.variable?.[parts[1]] !== undefined;
    if (parts[0] === "local") return (tf.locals as Record<string, unknown> | undefined)?.[parts[1]] !== undefined;
    if (parts[0] === "data") return tf.data?.[parts[1]]?.[parts[2]] !== undefined;
    return tf.resource?.[parts[0]]?.[parts[1]] !== undefined;
  };
  for (const { path, text } of stringsIn(tf)) {
    if (path.startsWith("$.terraform")) continue;
    for (const expression of expressionsIn(text)) {
      const refs = referencesIn(expression);
      if (refs.length === 0) problems.push({ path, expression, problem: "refers to nothing (unescaped literal?)" });
      for (const ref of refs) {
        checked++;
        if (!defined(ref)) problems.push({ path, expression, problem: `${ref} is not defined` });
      }
    }
  }
  return { problems, checked };
}

/**
 * What Terraform makes of a string: each `${...}` reference replaced by a sample value, then
 * the escapes `$${` and `%%{` turned back into literal `${` and `%{`.
 */
export function renderLikeTerraform(text: string, sample = "SAMPLE"): string {
  return text
    .replace(/(?<!\$)\$\{[^}]*\}/g, sample)
    .replace(/\$\$\{/g, "${")
    .replace(/%%\{/g, "%{");
}
