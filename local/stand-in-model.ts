/**
 * `npm start -- --stand-in-model`: the bot without Ollama. The Ollama stand-in of the tests
 * (local/stand-ins/ollama.ts) serves the configured models on loopback and streams a short,
 * fixed reply word by word, slowly enough that the ⏹ Stop button shows and can be pressed, and
 * every model can see, so /photo goes through. Nothing here pretends to be a language model:
 * the reply says what it is.
 */
import { OllamaStandIn, type OllamaChatRequest } from "./stand-ins/ollama";

/** Pace of the stand-in's answers: a 40-word reply takes about 5 s, long enough to stop. */
export const STAND_IN_WORDS_PER_SECOND = 8;

/** The stand-in's answer to a request: the question echoed, then a note on what answered. Pure. */
export function standInReply(request: OllamaChatRequest): string {
  const question = [...request.messages].reverse().find((m) => m.role === "user");
  const pictures = question?.images?.length ?? 0;
  const seen = pictures > 0 ? ` with ${pictures === 1 ? "a picture" : `${pictures} pictures`}` : "";
  return (
    `You said: ${question?.content ?? ""}${seen}. ` +
    `This is the stand-in model of npm start --stand-in-model (${request.model}, ${request.messages.length} message(s) of context), ` +
    "not a language model: it streams this note word by word so that /stop (or the Stop button) can be tried while it writes, " +
    "and Retry answers the same question again."
  );
}

/** Starts the stand-in for `models`, every one of them able to see pictures. */
export function startStandInModel(models: readonly string[]): Promise<OllamaStandIn> {
  return OllamaStandIn.start({
    models,
    reply: standInReply,
    tokensPerSecond: STAND_IN_WORDS_PER_SECOND,
    capabilities: Object.fromEntries(models.map((model) => [model, ["completion", "vision"]])),
  });
}
