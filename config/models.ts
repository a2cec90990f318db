/**
 * The model list: which models the bot offers, each with the provider that serves it. One
 * definition read by the stack (config/stack-config.ts: `models` in chatbot.config.json, the
 * function's MODELS variable, Bedrock's IAM, whether an Ollama instance exists), the handler
 * (handler/config.ts reads MODELS, or OLLAMA_MODELS when it is unset), local mode and the tests.
 *
 * An entry is a string (an Ollama model, as before) or an object:
 * `{ "name": "claude-haiku", "provider": "bedrock", "model": "us.anthropic.claude-3-5-haiku-20241022-v1:0" }`,
 * `{ "name": "qwen-gpu", "provider": "openai", "model": "Qwen/Qwen2.5-7B-Instruct", "baseUrl": "https://gpu.example.com/v1" }`.
 * `name` is what users see and what a session stores; names are unique. Pure.
 */

/** The providers an entry may name. */
export const PROVIDERS = ["ollama", "bedrock", "openai"] as const;
/** A provider an entry may name. */
export type Provider = (typeof PROVIDERS)[number];

/**
 * The stack output listing the providers the model list uses, comma-separated ("ollama,bedrock"):
 * main.ts writes it, the scripts read it (no `ollama` in it: the stack has no Ollama instance).
 */
export const MODEL_PROVIDERS_OUTPUT = "model_providers";

/** USD per million tokens, for the estimated cost shown beside tokens. */
export interface ModelPrice {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

/** One model of the list, with every default filled in. */
export interface ModelEntry {
  /** What users see in pickers and /status, and what a session stores. */
  readonly name: string;
  readonly provider: Provider;
  /** The provider's own model id (Ollama's tag, Bedrock's model or inference profile id, the server's model). */
  readonly model: string;
  /** OpenAI-compatible servers: the API's base URL, e.g. https://gpu.example.com/v1. */
  readonly baseUrl?: string;
  /** Bedrock: the region to call. @default - the function's AWS_REGION */
  readonly region?: string;
  /** The model sees pictures. @default - Ollama asks /api/show; others false */
  readonly vision?: boolean;
  /** The model reasons apart from its answer. @default - Ollama asks /api/show; others false */
  readonly thinking?: boolean;
  /** List prices, for estimated costs. @default - no cost shown */
  readonly price?: ModelPrice;
}

/** An entry as written in chatbot.config.json or MODELS: a string is an Ollama model. */
export type ModelEntryInput = string | Partial<Record<keyof ModelEntry, unknown>>;

/**
 * The Ollama models an instance can pull: name[:tag], lowercase, optionally namespaced; safe in
 * the shell script of its user data (config/stack-config.ts PATTERNS.model is this one).
 */
export const OLLAMA_PULL_PATTERN = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*(:[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
/** Ollama model names such as llama3.2:1b or hf.co/org/model:Q4_K_M. */
export const OLLAMA_MODEL_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9._:/-]{0,127}$/;
/** Names users see: short, no spaces at the ends, nothing a button or a log would mangle. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,63}$/;
/** Bedrock model and inference profile ids, e.g. anthropic.claude-3-haiku-20240307-v1:0 or us.meta.llama3-1-8b-instruct-v1:0. */
const BEDROCK_MODEL_PATTERN = /^[a-z0-9-]+(\.[a-zA-Z0-9._-]+)+(:[0-9]+)?$|^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:[0-9]{0,12}:[a-z-]+\/[A-Za-z0-9._:/-]+$/;
const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ENTRY_KEYS: ReadonlySet<string> = /* @__PURE__ */ new Set(["name", "provider", "model", "baseUrl", "region", "vision", "thinking", "price"]);

/** One problem of a model list, naming the entry and its field. */
export interface ModelListProblem {
  /** e.g. `models[2].baseUrl` */
  readonly field: string;
  readonly message: string;
}

/** Hosts an OpenAI-compatible `http:` URL may name: only this machine. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Why `url` is no OpenAI-compatible base URL (the URL itself is not repeated: it may hold a key). Pure. */
export function baseUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an http(s) URL such as https://<host>/v1";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "must be an http(s) URL";
  if (parsed.username || parsed.password) return "must not carry credentials (use openai_api_key)";
  if (parsed.search || parsed.hash) return "must not have a query or fragment";
  if (parsed.protocol === "http:" && !isLoopback(parsed.hostname)) return "must be https:// outside this machine (http:// only for localhost)";
  return undefined;
}

type Check = (value: unknown) => string | undefined;
const optionalFlag: Check = (v) => (v === undefined || typeof v === "boolean" ? undefined : "must be true or false");
const priceCheck: Check = (v) => {
  if (v === undefined) return undefined;
  const p = v as Partial<ModelPrice> | null;
  const ok = typeof p === "object" && p !== null && [p.inputPerMillion, p.outputPerMillion].every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0 && n < 1e6);
  return ok ? undefined : 'must be { "inputPerMillion": <USD>, "outputPerMillion": <USD> } with numbers >= 0';
};

/**
 * Why an entry's name is unusable. Without a name the model id is the name, so it must be one
 * too: an ARN or a server's model id may be too long, or hold characters a button, a metric
 * dimension or the dashboard's JSON would mangle. Pure.
 */
function nameProblem(name: unknown, model: string | undefined): string | undefined {
  const rule = "1 to 64 letters, digits and ._:/@+- (no spaces)";
  if (name !== undefined) return typeof name === "string" && NAME_PATTERN.test(name) ? undefined : `must be ${rule}`;
  if (model === undefined || NAME_PATTERN.test(model)) return undefined;
  return `is required when the model id is not itself a name (${rule})`;
}

/** The problems of one object entry's fields, by field name. Pure. */
function objectProblems(entry: Partial<Record<string, unknown>>): [string, string][] {
  const problems: [string, string][] = [];
  const add = (field: string, message: string | undefined) => message && problems.push([field, message]);
  for (const key of Object.keys(entry)) if (!ENTRY_KEYS.has(key)) add(key, `is not a model entry field (allowed: ${[...ENTRY_KEYS].join(", ")})`);
  const provider = entry.provider ?? "ollama";
  const knownProvider = (PROVIDERS as readonly unknown[]).includes(provider);
  if (!knownProvider) add("provider", `must be one of ${PROVIDERS.join(", ")}`);
  const model = entry.model;
  const modelPattern = provider === "ollama" ? OLLAMA_MODEL_PATTERN : provider === "bedrock" ? BEDROCK_MODEL_PATTERN : /^[^\s]{1,200}$/;
  // An unknown provider has no model ids of its own: its provider problem says it all.
  const modelOk = typeof model === "string" && modelPattern.test(model);
  if (knownProvider && !modelOk) add("model", `must be a ${provider as string} model id`);
  add("name", nameProblem(entry.name, modelOk ? model : undefined));
  if (provider === "openai") add("baseUrl", typeof entry.baseUrl === "string" ? baseUrlProblem(entry.baseUrl) : "is required for an openai entry");
  else if (entry.baseUrl !== undefined) add("baseUrl", "is only for openai entries");
  if (entry.region !== undefined && (provider !== "bedrock" || typeof entry.region !== "string" || !REGION_PATTERN.test(entry.region))) {
    add("region", provider === "bedrock" ? "must be an AWS region such as us-east-1" : "is only for bedrock entries");
  }
  add("vision", optionalFlag(entry.vision));
  add("thinking", optionalFlag(entry.thinking));
  add("price", priceCheck(entry.price));
  return problems;
}

/** The entry with its defaults, assuming it has no problems. Pure. */
function normalised(input: ModelEntryInput): ModelEntry {
  if (typeof input === "string") return { name: input, provider: "ollama", model: input };
  const model = input.model as string;
  const optional = Object.fromEntries(
    (["baseUrl", "region", "vision", "thinking", "price"] as const).filter((k) => input[k] !== undefined).map((k) => [k, input[k]]),
  );
  return Object.freeze({ name: (input.name as string | undefined) ?? model, provider: (input.provider as Provider | undefined) ?? "ollama", model, ...optional }) as ModelEntry;
}

/** A model list read: its entries (the valid ones) and what was wrong with the others. */
export interface ModelList {
  readonly entries: readonly ModelEntry[];
  readonly problems: readonly ModelListProblem[];
}

/**
 * Reads a model list: every field of every entry checked, each problem naming its entry and
 * field (`models[1].baseUrl`), entries with problems left out, names unique. Pure.
 */
export function readModelList(raw: unknown, field = "models"): ModelList {
  if (!Array.isArray(raw) || raw.length === 0) return { entries: [], problems: [{ field, message: "must be a non-empty list of models" }] };
  const problems: ModelListProblem[] = [];
  const entries: ModelEntry[] = [];
  const names = new Set<string>();
  raw.forEach((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (typeof item === "string") {
      if (!OLLAMA_MODEL_PATTERN.test(item)) return void problems.push({ field: at, message: "must be an ollama model name such as llama3.2:1b" });
    } else if (typeof item !== "object" || item === null || Array.isArray(item)) {
      return void problems.push({ field: at, message: "must be an ollama model name or an object with provider and model" });
    } else {
      const found = objectProblems(item as Partial<Record<string, unknown>>);
      if (found.length > 0) return void problems.push(...found.map(([f, message]) => ({ field: `${at}.${f}`, message })));
    }
    const entry = normalised(item as ModelEntryInput);
    if (names.has(entry.name)) return void problems.push({ field: `${at}.name`, message: `repeats the name ${entry.name}: names must be unique` });
    names.add(entry.name);
    entries.push(entry);
  });
  return { entries, problems };
}

/** A value as a message shows it. Pure. */
const shown = (value: unknown): string => (value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value)));

/** The value a problem's field names (`models[1].provider`); a string entry is its own name and model. Pure. */
function valueAt(raw: unknown, field: string): unknown {
  const m = /^[A-Za-z]+(?:\[(\d+)\](?:\.(\w+))?)?$/.exec(field);
  if (!m) return undefined;
  const item: unknown = m[1] === undefined ? raw : (raw as unknown[])[Number(m[1])];
  return m[2] === undefined || typeof item === "string" ? item : (item as Record<string, unknown> | undefined)?.[m[2]];
}

/** Ollama ids an instance could not pull (see OLLAMA_PULL_PATTERN), as problems. Pure. */
function unpullable(raw: readonly unknown[], field: string): ModelListProblem[] {
  const message = "must be an ollama model name such as llama3.2:1b (the instance pulls it in a shell script)";
  return raw.flatMap((item, i): ModelListProblem[] => {
    if (typeof item === "string") return OLLAMA_PULL_PATTERN.test(item) ? [] : [{ field: `${field}[${i}]`, message }];
    const entry = item as { provider?: unknown; model?: unknown };
    if ((entry.provider ?? "ollama") !== "ollama" || OLLAMA_PULL_PATTERN.test(String(entry.model))) return [];
    return [{ field: `${field}[${i}].model`, message }];
  });
}

/**
 * A model list as a deployment's setting: {@link readModelList}, and every Ollama id one an
 * instance can pull; each problem as a message naming its field and the value received (never a
 * base URL: it may carry a key), e.g. `invalid models[1].provider: got "gemini"; must be one of
 * ollama, bedrock, openai`. The entries are frozen. Pure.
 */
export function readModelSetting(raw: unknown, field = "models"): { entries: readonly ModelEntry[]; messages: readonly string[] } {
  const list = readModelList(raw, field);
  const named = new Set(list.problems.map((p) => p.field));
  const pull = Array.isArray(raw) ? unpullable(raw, field).filter((p) => !named.has(p.field)) : [];
  const problems = [...list.problems, ...pull];
  const messages = problems.map((p) => `invalid ${p.field}:${p.field.endsWith(".baseUrl") ? "" : ` got ${shown(valueAt(raw, p.field))};`} ${p.message}`);
  return { entries: Object.freeze(list.entries.map((entry) => Object.freeze({ ...entry }))), messages };
}

/**
 * The model list of a deployment's environment override: OLLAMA_MODELS is a comma-separated
 * list of Ollama models, MODELS the list as JSON. Throws naming the variable when MODELS is not
 * JSON. Pure.
 */
export function modelListFromEnv(variable: string, raw: string): unknown {
  if (variable !== "MODELS") return raw.split(",").map((m) => m.trim()).filter((m) => m.length > 0);
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new Error(`invalid MODELS: got ${shown(raw)}; allowed: json, e.g. ["llama3.2:1b", {"name": "claude-haiku", "provider": "bedrock", "model": "..."}]`);
  }
}

/** An entry as the function's MODELS variable carries it: a plain Ollama entry as its string. Pure. */
export function compactEntry(entry: ModelEntry): ModelEntryInput {
  const plainOllama = entry.provider === "ollama" && entry.name === entry.model && Object.keys(entry).length === 3;
  return plainOllama ? entry.name : { ...entry };
}

/** The MODELS variable's value for a list. Pure. */
export function modelsVariable(entries: readonly ModelEntry[]): string {
  return JSON.stringify(entries.map(compactEntry));
}

/** True when any entry is served by `provider`. Pure. */
export const usesProvider = (entries: readonly ModelEntry[], provider: Provider): boolean => entries.some((e) => e.provider === provider);

/** The providers the entries use, each once, in the order they first appear. Pure. */
export const providersOf = (entries: readonly ModelEntry[]): Provider[] => [...new Set(entries.map((e) => e.provider))];

/**
 * The Ollama model ids of a list, each once, in order: what an Ollama server must have pulled
 * (two entries may serve one model under two names). Pure.
 */
export const ollamaModelIds = (entries: readonly ModelEntry[]): string[] => [...new Set(entries.filter((e) => e.provider === "ollama").map((e) => e.model))];

/** How a model shows in pickers and /status: its name and, beside Ollama, its provider. Pure. */
export function modelLabel(entry: Pick<ModelEntry, "name" | "provider">): string {
  const provider = { ollama: "Ollama", bedrock: "Bedrock", openai: "OpenAI-compatible" }[entry.provider];
  return `${entry.name} (${provider})`;
}
