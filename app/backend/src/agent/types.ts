import type { TaskTools } from "./tools.js";

/** One tool invocation as the chat API reports it and the conversation stores it. */
export interface ToolCall {
  tool: string;
  arguments: Record<string, unknown>;
  result: unknown;
}

export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
  toolCalls: ToolCall[];
  /** Whatever the agent stored with its previous reply (the builtin agent's open question). */
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
  /** How much of the conversation this agent reads: the latest `messages`, with or without their tool calls. */
  readonly history: { messages: number; toolCalls: boolean };
  respond(input: AgentInput): Promise<AgentOutput>;
}
