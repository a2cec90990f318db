/**
 * `npm start -- --stand-in-model`: the bot without a model server or a cloud account. Every
 * provider of the model list is served on loopback by the stand-in of the tests (Ollama's API,
 * Bedrock Runtime's signed ConverseStream, an OpenAI-compatible API), and the local handler is
 * pointed at them: OLLAMA_URL, AWS_ENDPOINT_URL_BEDROCK_RUNTIME, and the openai entries' baseUrl
 * in the model list it gets. Each streams a short fixed note word by word, slowly enough that
 * the ⏹ Stop button shows and can be pressed; reasoning entries send a short reasoning first,
 * and vision entries take pictures (every Ollama model can see, so /photo goes through).
 * Nothing here pretends to be a language model: the note says what it is.
 */
import { PROVIDERS, usesProvider, type ModelEntry, type Provider } from "../config/models";
import { FUNCTION_ENV } from "../config/function-env";
import type { StackConfig } from "../config/stack-config";
import type { BannerStandIn } from "./banner";
import { EMULATOR_CREDENTIALS } from "./emulators";
import { startBedrockStandIn, type BedrockStandInCredentials, type StandInConverseCall } from "./stand-ins/bedrock";
import { lastUserText } from "./stand-ins/bedrock-converse";
import { OllamaStandIn, type OllamaChatRequest } from "./stand-ins/ollama";
import { startOpenAiStandIn, textOf, type OpenAiChatRequest } from "./stand-ins/openai";

/** Pace of the stand-ins' answers: a 40-word note takes about 5 s, long enough to stop. */
export const STAND_IN_WORDS_PER_SECOND = 8;

/** The reasoning of entries with `thinking: true`: short, and saying that nothing thought. */
export const STAND_IN_REASONING = "A stand-in does not think: this short reasoning shows where a reasoning model's thoughts appear.";

/** What a note says about the question it answers. */
export interface StandInQuestion {
  /** The provider's model id asked. */
  readonly model: string;
  /** The last user message's text. */
  readonly text: string;
  /** Pictures sent with it. */
  readonly pictures: number;
  /** Messages of context sent (the system prompt included). */
  readonly messages: number;
}

/** The stand-ins' answer: the question echoed, then a note on what answered. Pure. */
export function standInNote(question: StandInQuestion): string {
  const { pictures } = question;
  const seen = pictures > 0 ? ` with ${pictures === 1 ? "a picture" : `${pictures} pictures`}` : "";
  return (
    `You said: ${question.text}${seen}. ` +
    `This is the stand-in model of npm start --stand-in-model (${question.model}, ${question.messages} message(s) of context), ` +
    "not a language model: it streams this note word by word so that /stop (or the Stop button) can be tried while it writes, " +
    "and Retry answers the same question again."
  );
}

/** The note for an Ollama /api/chat request. Pure. */
export function standInReply(request: OllamaChatRequest): string {
  const question = [...request.messages].reverse().find((m) => m.role === "user");
  return standInNote({ model: request.model, text: question?.content ?? "", pictures: question?.images?.length ?? 0, messages: request.messages.length });
}

/** The note for a Bedrock ConverseStream call (the system prompt, apart in Converse, counted as a message). Pure. */
export function bedrockStandInReply(call: StandInConverseCall): string {
  const { messages, system } = call.body;
  const question = [...messages].reverse().find((m) => m.role === "user");
  const pictures = (question?.content ?? []).filter((block) => "image" in block).length;
  return standInNote({ model: call.modelId, text: lastUserText(call), pictures, messages: messages.length + (system?.length ? 1 : 0) });
}

/** The note for an OpenAI chat completion. Pure. */
export function openAiStandInReply(request: OpenAiChatRequest): string {
  const question = [...request.messages].reverse().find((m) => m.role === "user");
  const parts: { type?: unknown }[] = Array.isArray(question?.content) ? question.content : [];
  const pictures = parts.filter((part) => part?.type === "image_url").length;
  return standInNote({ model: request.model, text: textOf(question?.content), pictures, messages: request.messages.length });
}

/** One stand-in serving the entries of one provider. */
export interface RunningStandIn extends BannerStandIn {
  readonly provider: Provider;
  stop(): Promise<void>;
}

/** How to start the stand-ins of a model list. */
export interface StandInModelsOptions {
  /** The stack configuration whose `models` are served. */
  readonly stack: StackConfig;
  /** The environment the handler would get; the stand-ins' addresses go into a copy. */
  readonly env: NodeJS.ProcessEnv;
  /** Region of Bedrock entries that name none: the local handler's AWS_REGION (its emulators'). @default stack.region */
  readonly region?: string;
  /** What the local handler signs Bedrock calls with (deps.credentials: the emulators'). @default EMULATOR_CREDENTIALS */
  readonly credentials?: BedrockStandInCredentials;
}

/** The running stand-ins, and the handler's environment and stack configuration that reach them. */
export interface StandInModels {
  /** In PROVIDERS order: Ollama, Bedrock, OpenAI-compatible; only those the list uses. */
  readonly running: readonly RunningStandIn[];
  /** `env` with OLLAMA_URL and AWS_ENDPOINT_URL_BEDROCK_RUNTIME at the stand-ins, and no provider key to send them. */
  readonly env: NodeJS.ProcessEnv;
  /** The stack configuration with every openai entry's baseUrl at the OpenAI-compatible stand-in. */
  readonly stack: StackConfig;
  /** Stops every stand-in. */
  stop(): Promise<void>;
}

const ids = (entries: readonly ModelEntry[]) => [...new Set(entries.map((e) => e.model))];
const flagged = (entries: readonly ModelEntry[], flag: "thinking" | "vision") => ids(entries.filter((e) => e[flag] === true));
const names = (entries: readonly ModelEntry[]) => entries.map((e) => e.name);

/** The Ollama stand-in: every model sees pictures (as before), the thinking entries' models reason. */
async function startOllama(entries: readonly ModelEntry[]): Promise<RunningStandIn> {
  const thinking = new Set(flagged(entries, "thinking"));
  const standIn = await OllamaStandIn.start({
    models: ids(entries),
    reply: standInReply,
    thinking: () => STAND_IN_REASONING,
    tokensPerSecond: STAND_IN_WORDS_PER_SECOND,
    capabilities: Object.fromEntries(ids(entries).map((model) => [model, ["completion", "vision", ...(thinking.has(model) ? ["thinking"] : [])]])),
  });
  return { provider: "ollama", serves: "Ollama", url: standIn.url, models: names(entries), stop: () => standIn.stop() };
}

/** The Bedrock stand-in, accepting signatures scoped to every region the entries are called in. */
async function startBedrock(entries: readonly ModelEntry[], options: StandInModelsOptions): Promise<RunningStandIn> {
  const region = options.region ?? options.stack.region;
  const standIn = await startBedrockStandIn({
    region: [...new Set(entries.map((e) => e.region ?? region))],
    credentials: options.credentials ?? EMULATOR_CREDENTIALS,
    models: ids(entries),
    reply: bedrockStandInReply,
    reasoningModels: flagged(entries, "thinking"),
    reasoning: () => STAND_IN_REASONING,
    deltaIntervalMs: 1000 / STAND_IN_WORDS_PER_SECOND,
  });
  return { provider: "bedrock", serves: "Bedrock Runtime", url: standIn.url, models: names(entries), stop: () => standIn.close() };
}

/** The OpenAI-compatible stand-in, for every openai entry whatever its base URL. */
async function startOpenAi(entries: readonly ModelEntry[]): Promise<RunningStandIn> {
  const standIn = await startOpenAiStandIn({
    models: ids(entries),
    reply: openAiStandInReply,
    reasoningModels: flagged(entries, "thinking"),
    reasoning: () => STAND_IN_REASONING,
    chunkDelayMs: 1000 / STAND_IN_WORDS_PER_SECOND,
  });
  return { provider: "openai", serves: "OpenAI-compatible API", url: standIn.url, models: names(entries), stop: () => standIn.close() };
}

const STARTERS: Readonly<Record<Provider, (entries: readonly ModelEntry[], options: StandInModelsOptions) => Promise<RunningStandIn>>> = {
  ollama: startOllama,
  bedrock: startBedrock,
  openai: startOpenAi,
};

/** The handler's environment reaching the stand-ins; the real keys are dropped, as nothing there checks them. Pure. */
export function standInEnv(env: NodeJS.ProcessEnv, running: readonly Pick<RunningStandIn, "provider" | "url">[]): NodeJS.ProcessEnv {
  const url = (provider: Provider) => running.find((s) => s.provider === provider)?.url;
  const ollama = url("ollama");
  const bedrock = url("bedrock");
  return {
    ...env,
    ...(ollama ? { [FUNCTION_ENV.ollamaUrl]: ollama, [FUNCTION_ENV.ollamaApiKey]: undefined } : {}),
    ...(bedrock ? { [FUNCTION_ENV.bedrockEndpoint]: bedrock } : {}),
    ...(url("openai") ? { [FUNCTION_ENV.openaiApiKey]: undefined } : {}),
  };
}

/** The stack configuration with the openai entries' baseUrl at the OpenAI-compatible stand-in. Pure. */
export function standInStack(stack: StackConfig, running: readonly Pick<RunningStandIn, "provider" | "url">[]): StackConfig {
  const baseUrl = running.find((s) => s.provider === "openai")?.url;
  if (baseUrl === undefined) return stack;
  const models = stack.models.map((e) => (e.provider === "openai" ? Object.freeze({ ...e, baseUrl }) : e));
  return Object.freeze({ ...stack, models: Object.freeze(models) });
}

/** Starts a stand-in for each provider the model list uses; see the module comment. */
export async function startStandInModels(options: StandInModelsOptions): Promise<StandInModels> {
  const { models } = options.stack;
  const running: RunningStandIn[] = [];
  const stop = async () => void (await Promise.all(running.map((s) => s.stop())));
  try {
    for (const provider of PROVIDERS.filter((p) => usesProvider(models, p))) {
      running.push(await STARTERS[provider](models.filter((e) => e.provider === provider), options));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { running, env: standInEnv(options.env, running), stack: standInStack(options.stack, running), stop };
}
