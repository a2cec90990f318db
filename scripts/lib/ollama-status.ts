/**
 * The Ollama side of manage-ollama: an API health probe through the nginx proxy (with the API
 * key) using the handler's OllamaClient, and the comparison of models present with models
 * configured. The comparison and its formatting are pure.
 */
import { OLLAMA_INTERNAL_PORT } from "../../config/defaults";
import { ConnectionError, ServiceError } from "../../handler/net/errors";

/** What the scripts need from an Ollama client (OllamaClient implements it). */
export interface OllamaProbeApi {
  version(): Promise<string>;
  listModels(): Promise<string[]>;
}

/** The API's health as seen through the proxy. */
export type ApiHealth =
  | { readonly ok: true; readonly version: string; readonly models: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** Asks /api/version then /api/tags; never throws. */
export async function probeOllama(api: OllamaProbeApi): Promise<ApiHealth> {
  try {
    const version = await api.version();
    const models = await api.listModels();
    return { ok: true, version, models };
  } catch (error) {
    return { ok: false, reason: describeProbeFailure(error) };
  }
}

/** Plain words for a failed probe. Pure. */
export function describeProbeFailure(error: unknown): string {
  if (error instanceof ServiceError && error.status === 401) return "the proxy refused the API key (401): the key does not match the instance's";
  if (error instanceof ServiceError && error.status === 502) return "nginx answers but Ollama behind it does not (502): still starting, or the service failed";
  if (error instanceof ServiceError) return `the API answered ${error.status}: ${error.description}`;
  if (error instanceof ConnectionError && error.certificateRefused) {
    return "the server's TLS certificate is not the stack's (output ollama_certificate_pem): a different server, or the certificate was renewed and the instance has not picked it up yet";
  }
  if (error instanceof ConnectionError) return error.timedOut ? "no answer in time" : "nothing answers (instance stopped or still booting)";
  return error instanceof Error ? error.message : String(error);
}

/** Models present versus configured. */
export interface ModelComparison {
  readonly present: readonly string[];
  /** Configured but not on the instance: the bot offers them and they fail. */
  readonly missing: readonly string[];
  /** On the instance but not configured: unused disk space. */
  readonly extra: readonly string[];
}

/** Ollama names a model without a tag "<name>:latest"; both spellings are the same model. */
function canonical(model: string): string {
  return model.includes(":") ? model : `${model}:latest`;
}

/** Compares the instance's models with the configured ones. Pure. */
export function compareModels(present: readonly string[], configured: readonly string[]): ModelComparison {
  const have = new Set(present.map(canonical));
  const want = new Set(configured.map(canonical));
  return {
    present,
    missing: configured.filter((m) => !have.has(canonical(m))),
    extra: present.filter((m) => !want.has(canonical(m))),
  };
}

/** The comparison as lines. Pure. */
export function formatModelComparison(comparison: ModelComparison, configured: readonly string[]): string[] {
  const lines = configured.map((m) => `    ${comparison.missing.includes(m) ? "missing" : "present"}  ${m}`);
  for (const m of comparison.extra) lines.push(`    extra    ${m} (not configured)`);
  if (comparison.missing.length > 0) {
    lines.push(`    pull the missing ones: npm run manage-ollama -- ssh, then OLLAMA_HOST=http://127.0.0.1:${OLLAMA_INTERNAL_PORT} ollama pull <model>`);
  }
  return lines;
}
