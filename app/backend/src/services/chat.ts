import { AppError } from "../errors.js";
import { AgentProviderError, AgentTimeoutError } from "../agent/errors.js";
import { TaskTools } from "../agent/tools.js";
import type { Agent, ToolCall } from "../agent/types.js";
import type { Logger } from "../logger.js";
import type { ConversationService } from "./conversations.js";
import type { TaskService } from "./tasks.js";

export interface ChatReply {
  conversationId: string;
  reply: string;
  toolCalls: ToolCall[];
}

/**
 * One chat turn: store the user's message first (so it is never lost, whatever
 * the model does) while reading the context from the database, let the agent act
 * through the tools, then store its reply with the tool calls.
 */
export class ChatService {
  constructor(
    private readonly agent: Agent,
    private readonly tasks: TaskService,
    private readonly conversations: ConversationService,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  async send(userId: string, input: { message: string; conversationId?: string }): Promise<ChatReply> {
    const { conversationId, history } = await this.conversations.startTurn(userId, input, this.agent.history.messages);

    const tools = new TaskTools(this.tasks, userId);
    let output;
    try {
      output = await withTimeout(this.timeoutMs, (signal) =>
        this.agent.respond({ history, message: input.message, tools, signal }),
      );
    } catch (error) {
      throw this.toHttpError(error, conversationId, tools.calls);
    }
    await this.conversations.saveReply(userId, conversationId, {
      content: output.reply,
      toolCalls: output.toolCalls,
      agentState: output.agentState,
    });
    return { conversationId, reply: output.reply, toolCalls: output.toolCalls };
  }

  private toHttpError(error: unknown, conversationId: string, toolCalls: ToolCall[]): Error {
    const details = { conversationId, toolCalls };
    if (error instanceof AgentTimeoutError || (error instanceof Error && error.name === "TimeoutError")) {
      this.logger.warn({ err: error, conversationId }, "chat agent timed out");
      return new AppError(
        504,
        "llm_timeout",
        `The assistant did not answer in time (${Math.round(this.timeoutMs / 1000)} s). Your message was saved; try again.`,
        details,
      );
    }
    if (error instanceof AgentProviderError) {
      this.logger.error({ err: error, conversationId }, "chat agent failed");
      return new AppError(502, "llm_error", `${error.message}. Your message was saved; try again.`, details);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Runs `work` with an AbortSignal that fires after `ms`, and rejects with a TimeoutError then at the latest. */
async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DOMException(`timed out after ${ms} ms`, "TimeoutError");
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
