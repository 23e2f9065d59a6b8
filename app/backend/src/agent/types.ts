import type { TaskTools } from "./tools.js";

/** One tool invocation as the chat API reports it and the conversation stores it. */
export interface ToolCall {
  tool: string;
  arguments: Record<string, unknown>;
  result: unknown;
}

/** An earlier message as agents see it: the words, and what the agent itself stored with its reply. */
export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
  /** Whatever the agent stored with its reply (the builtin agent's open question and last task); null for users. */
  agentState: unknown;
}

export interface AgentInput {
  /** Earlier turns of the conversation, oldest first, not including `message`. */
  history: ChatTurn[];
  message: string;
  tools: TaskTools;
  /** Aborted when the chat's time budget runs out. */
  signal: AbortSignal;
}

export interface AgentOutput {
  reply: string;
  toolCalls: ToolCall[];
  agentState?: unknown;
}

export interface Agent {
  readonly provider: string;
  /** How much of the conversation this agent reads: the latest `messages` (their tool calls are never replayed). */
  readonly history: { messages: number };
  respond(input: AgentInput): Promise<AgentOutput>;
}
