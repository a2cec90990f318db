import type { ModelEntry } from "../../config/models";
import { modelCapabilities } from "./capabilities";
import type { ModelApi } from "./model-api";

/**
 * The model list at run time: each entry of config/models.ts with the adapter that serves it.
 * One adapter per provider endpoint (the Ollama server, each Bedrock region, each
 * OpenAI-compatible base URL), built on first use and shared by the entries that name it, so a
 * container keeps its connections. The chat path asks the registry, never a provider.
 */

/** An entry and the adapter that serves it; `api` is undefined when its provider is not configured (Ollama without OLLAMA_URL). */
export interface ModelRoute {
  readonly entry: ModelEntry;
  readonly api: ModelApi | undefined;
}

/** How the registry makes an adapter for each kind of endpoint. */
export interface AdapterFactories {
  /** The Ollama client, or undefined when OLLAMA_URL is not set. */
  readonly ollama: () => ModelApi | undefined;
  readonly bedrock: (region: string) => ModelApi;
  readonly openai: (baseUrl: string) => ModelApi;
}

/** One endpoint and the entries it serves, for /status. */
export interface ProviderEndpoint {
  readonly api: ModelApi | undefined;
  readonly entries: readonly ModelEntry[];
  /** Where it is: the region or base URL; "" for the Ollama server. */
  readonly where: string;
}

/** See the module comment. */
export class ModelRegistry {
  private readonly apis = new Map<string, ModelApi | undefined>();

  constructor(
    /** The configured list, in order. */
    readonly entries: readonly ModelEntry[],
    private readonly factories: AdapterFactories,
    /** Region of Bedrock entries that name none. */
    private readonly defaultRegion: string,
  ) {}

  /** The route of the model named `name`, or undefined when the list has no such model. */
  route(name: string): ModelRoute | undefined {
    const entry = this.entries.find((e) => e.name === name);
    return entry ? { entry, api: this.apiOf(entry) } : undefined;
  }

  /** Every endpoint with its entries, in the list's order of first use. */
  endpoints(): ProviderEndpoint[] {
    const byKey = new Map<string, { where: string; entries: ModelEntry[] }>();
    for (const entry of this.entries) {
      const key = this.keyOf(entry);
      const found = byKey.get(key) ?? { where: key.slice(key.indexOf(":") + 1), entries: [] };
      found.entries.push(entry);
      byKey.set(key, found);
    }
    return [...byKey.values()].map(({ where, entries }) => ({ where, entries, api: this.apiOf(entries[0]!) }));
  }

  /**
   * What `route`'s model can do: the entry's `vision`/`thinking` flags where they are set;
   * otherwise Ollama's /api/show (asked once per container), and nothing for providers that
   * cannot be asked. Undefined when Ollama could not say.
   */
  async capabilities(route: ModelRoute): Promise<readonly string[] | undefined> {
    const { entry, api } = route;
    const flagged = (["vision", "thinking"] as const).filter((c) => entry[c] === true);
    const unflagged = (["vision", "thinking"] as const).some((c) => entry[c] === undefined);
    if (entry.provider !== "ollama" || !unflagged || !api) return flagged;
    const asked = await modelCapabilities(api, entry.model);
    if (!asked) return undefined;
    return [...new Set([...asked.filter((c) => !(c in entry) || entry[c as "vision"] !== false), ...flagged])];
  }

  private keyOf(entry: ModelEntry): string {
    if (entry.provider === "bedrock") return `bedrock:${entry.region ?? this.defaultRegion}`;
    if (entry.provider === "openai") return `openai:${entry.baseUrl ?? ""}`;
    return "ollama:";
  }

  private apiOf(entry: ModelEntry): ModelApi | undefined {
    const key = this.keyOf(entry);
    if (!this.apis.has(key)) {
      const where = key.slice(key.indexOf(":") + 1);
      const api = entry.provider === "bedrock" ? this.factories.bedrock(where) : entry.provider === "openai" ? this.factories.openai(where) : this.factories.ollama();
      this.apis.set(key, api);
    }
    return this.apis.get(key);
  }
}
