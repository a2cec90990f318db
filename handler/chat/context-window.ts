import type { ChatMessage } from "../model/ollama";
import type { StoredMessage } from "../store/session-items";

/** The messages a model sees and whether older ones were left out. */
export interface ContextWindow {
  /** Oldest first, as Ollama takes them; the system prompt, when there is one, first of all. */
  readonly messages: ChatMessage[];
  /** True when stored messages older than the window exist (or were cut to fit). */
  readonly omitted: boolean;
}

/**
 * The part of `charBudget` the messages may use next to a system prompt: the prompt's length
 * is taken first, but the messages always keep at least half of the budget (a long prompt
 * with a small CONTEXT_CHAR_BUDGET still leaves room for what the user said). Pure.
 */
export function messageBudget(charBudget: number, systemPrompt: string): number {
  if (!systemPrompt) return charBudget;
  return Math.max(charBudget - systemPrompt.length, Math.floor(charBudget / 2));
}

/**
 * Picks the latest messages whose contents fit in `charBudget` characters, oldest first. The
 * newest message is always sent (cut from the start to the budget if it alone is too long),
 * so the model always sees what the user just said. `totalStored` tells whether older messages
 * exist beyond `recent` (the read was limited). A `systemPrompt` goes first, as a `system`
 * message, and counts in the budget ({@link messageBudget}). Pure.
 */
export function selectContext(
  recent: readonly StoredMessage[],
  charBudget: number,
  totalStored = recent.length,
  systemPrompt = "",
): ContextWindow {
  const budget = messageBudget(charBudget, systemPrompt);
  const picked: ChatMessage[] = [];
  let used = 0;
  for (let i = recent.length - 1; i >= 0; i--) {
    const message = recent[i]!;
    if (picked.length === 0 && message.content.length > budget) {
      picked.push({ role: message.role, content: message.content.slice(message.content.length - budget) });
      used = budget;
      continue;
    }
    if (used + message.content.length > budget) break;
    picked.push({ role: message.role, content: message.content });
    used += message.content.length;
  }
  picked.reverse();
  const cut = recent.length > 0 && recent[recent.length - 1]!.content.length > budget;
  const omitted = cut || picked.length < totalStored;
  return { messages: systemPrompt ? [{ role: "system", content: systemPrompt }, ...picked] : picked, omitted };
}
