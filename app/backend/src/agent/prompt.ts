import { TOOL_DESCRIPTIONS, TOOL_NAMES, toolJsonSchema } from "./tools.js";
import type { ChatTurn } from "./types.js";

export function systemPrompt(now = new Date()): string {
  return [
    "You are the assistant of a todo app. You manage the signed-in user's tasks only through the tools you are given.",
    "Tasks are identified by their numeric id. When the user names a task by its title, call list_tasks first to find the id.",
    "If more than one task could be meant, ask which one instead of guessing. Never invent task ids.",
    "After using tools, answer in one or two short, friendly sentences that say what you did.",
    `Today is ${now.toISOString().slice(0, 10)}.`,
  ].join("\n");
}

/** The five tools in the function-calling format OpenAI and Cohere share. */
export function functionTools() {
  return TOOL_NAMES.map((name) => ({
    type: "function" as const,
    function: { name, description: TOOL_DESCRIPTIONS[name], parameters: toolJsonSchema(name) },
  }));
}

/** Earlier turns as plain text; what the tools returned then is stale, so only the words are replayed. */
export function historyMessages(history: ChatTurn[]): { role: "user" | "assistant"; content: string }[] {
  return history.map((turn) => ({ role: turn.role, content: turn.content }));
}

export function stepLimitReply(maxSteps: number): string {
  return `I stopped after ${maxSteps} steps without finishing. Please try a simpler request.`;
}

export function parseToolArguments(raw: string | undefined): unknown {
  if (!raw || raw.trim() === "") return {};
  try {
    return JSON.parse(raw);
  } catch {
    return { __invalid_json: raw };
  }
}
