import type { ModelApi } from "./model-api";

/**
 * What each model can do, as Ollama's POST /api/show says (`capabilities`: `completion`,
 * `vision`, `thinking`, `tools`, ...), asked once per model and kept for the life of the
 * container: the chat path asks before every answer, and a model's capabilities change only
 * when it is pulled again (a deploy replaces the instance and, with it, the containers' cache).
 * A failed question is kept for {@link FAILED_LOOKUP_RETRY_MS} only, so a server that is down
 * is not asked twice per message, and one that comes back is asked again soon.
 */

/** Capabilities the bot acts on. */
export const CAPABILITY = Object.freeze({ vision: "vision", thinking: "thinking" });

/** How long a failed /api/show is remembered before the model is asked about again, in ms. */
export const FAILED_LOOKUP_RETRY_MS = 30_000;

interface Lookup {
  capabilities: Promise<readonly string[] | undefined>;
  /** Epoch ms after which a failed lookup is retried; Infinity once it succeeded. */
  expiresAt: number;
}

/** One cache per client, so every container (and every test's handler) has its own. */
const caches = new WeakMap<ModelApi, Map<string, Lookup>>();

/** The `capabilities` of an /api/show answer: its strings, [] when it has none (older Ollama). Pure. */
export function capabilitiesOf(body: unknown): string[] {
  const listed = (body as { capabilities?: unknown } | null)?.capabilities;
  return Array.isArray(listed) ? listed.filter((c): c is string => typeof c === "string") : [];
}

/**
 * The capabilities of `model`, from the cache or asked once (concurrent callers share the
 * question). Undefined when the server could not say (unreachable, model missing, an error).
 * Never rejects.
 */
export function modelCapabilities(api: ModelApi, model: string, now: () => number = Date.now): Promise<readonly string[] | undefined> {
  let cache = caches.get(api);
  if (!cache) {
    cache = new Map();
    caches.set(api, cache);
  }
  const cached = cache.get(model);
  if (cached && cached.expiresAt > now()) return cached.capabilities;
  const lookup: Lookup = { capabilities: Promise.resolve(undefined), expiresAt: Number.POSITIVE_INFINITY };
  lookup.capabilities = api.showModel(model).then(
    (info) => info.capabilities,
    () => {
      lookup.expiresAt = now() + FAILED_LOOKUP_RETRY_MS;
      return undefined;
    },
  );
  cache.set(model, lookup);
  return lookup.capabilities;
}

/**
 * True when Ollama says `model` has `capability`; false when it does not, could not say, or
 * (with `waitMs`) did not say in time: the question goes on and its answer is kept for later.
 */
export async function hasCapability(api: ModelApi, model: string, capability: string, waitMs?: number): Promise<boolean> {
  const lookup = modelCapabilities(api, model);
  return (await (waitMs === undefined ? lookup : within(lookup, waitMs)))?.includes(capability) ?? false;
}

/**
 * A capability lookup's answer, or undefined when it takes longer than `waitMs`: the lookup goes
 * on, and its answer is kept for the next question.
 */
export async function within<T>(lookup: Promise<T>, waitMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
  });
  try {
    return await Promise.race([lookup, late]);
  } finally {
    clearTimeout(timer);
  }
}
