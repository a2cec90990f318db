import type { ChatMessage } from "../model/ollama";
import type { StoredMessage } from "../store/session-items";

/** The messages a model sees and whether older ones were left out. */
export interface ContextWindow {
  /** Oldest first, as Ollama takes them. */
  readonly messages: ChatMessage[];
  /** True when stored messages older than the window exist (or were cut to fit). */
  readonly omitted: boolean;
}

/**
 * Picks the latest messages whose contents fit in `charBudget` characters, oldest first. The
 * newest message is always sent (cut from the start to the budget if it alone is too long),
 * so the model always sees what the user just said. `totalStored` tells whether older messages
 * exist beyond `recent` (the read was limited). Pure.
 */
export function selectContext(recent: readonly StoredMessage[], charBudget: number, totalStored = recent.length): ContextWindow {
  const picked: ChatMessage[] = [];
  let used = 0;
  for (let i = recent.length - 1; i >= 0; i--) {
    const message = recent[i]!;
    if (picked.length === 0 && message.content.length > charBudget) {
      picked.push({ role: message.role, content: message.content.slice(message.content.length - charBudget) });
      used = charBudget;
      continue;
    }
    if (used + message.content.length > charBudget) break;
    picked.push({ role: message.role, content: message.content });
    used += message.content.length;
  }
  picked.reverse();
  const cut = recent.length > 0 && recent[recent.length - 1]!.content.length > charBudget;
  return { messages: picked, omitted: cut || picked.length < totalStored };
}
