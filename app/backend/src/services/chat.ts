import { AppError, invalidInput, isInvalidDataError } from "../errors.js";
import { AgentProviderError, AgentTimeoutError } from "../agent/errors.js";
import { TaskTools, type TaskChange } from "../agent/tools.js";
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

    const controller = new AbortController();
    const tools = new TaskTools(this.tasks, userId, controller.signal);
    let output;
    try {
      output = await withTimeout(this.timeoutMs, controller, (signal) =>
        this.agent.respond({ history, message: input.message, tools, signal }),
      );
    } catch (error) {
      throw await this.failTurn(error, userId, conversationId, tools);
    }
    await this.conversations.saveReply(userId, conversationId, {
      content: output.reply,
      toolCalls: output.toolCalls,
      agentState: output.agentState,
    });
    return { conversationId, reply: output.reply, toolCalls: output.toolCalls };
  }

  /**
   * The turn failed: the model errored or ran out of time, or something else broke (a tool's
   * database query, say). Tools may already have changed tasks: the turn then gets an assistant
   * message recording those calls and the failure, and the error says what was done, so the user
   * does not add the same task twice. A tool call still running at the timeout is waited for (no
   * new one starts once the signal fired; the pool's statement_timeout bounds that wait), so
   * nothing lands unrecorded.
   */
  private async failTurn(error: unknown, userId: string, conversationId: string, tools: TaskTools): Promise<Error> {
    const timedOut = error instanceof AgentTimeoutError || (error instanceof Error && error.name === "TimeoutError");
    const providerFailed = error instanceof AgentProviderError;
    await tools.settled();
    const toolCalls = tools.calls;
    // With nothing done, any other failure is answered as it would be anywhere else in the API.
    if (!timedOut && !providerFailed && toolCalls.length === 0)
      return error instanceof Error ? error : new Error(String(error));
    const { status, code, failure } = timedOut
      ? {
          status: 504,
          code: "llm_timeout",
          failure: `The assistant did not answer in time (${Math.round(this.timeoutMs / 1000)} s).`,
        }
      : providerFailed
        ? { status: 502, code: "llm_error", failure: `${(error as Error).message}.` }
        : otherFailure(error);
    const done = describeChanges(toolCalls);
    const message =
      done === ""
        ? `${failure} Your message was saved; try again.`
        : `${failure} Your message was saved. Already done before the failure, so do not ask for these again: ${done}.`;
    if (timedOut) this.logger.warn({ err: error, conversationId, toolCalls: toolCalls.length }, "chat agent timed out");
    else this.logger.error({ err: error, conversationId, toolCalls: toolCalls.length }, "chat agent failed");
    if (toolCalls.length > 0) {
      try {
        await this.conversations.saveReply(userId, conversationId, { content: message, toolCalls });
      } catch (saveError) {
        this.logger.error({ err: saveError, conversationId }, "could not store the failed turn's tool calls");
      }
    }
    return new AppError(status, code, message, { conversationId, toolCalls });
  }
}

/** Status, code and wording for a failure that is neither the model's nor a timeout, as the API answers it elsewhere. */
function otherFailure(error: unknown): { status: number; code: string; failure: string } {
  if (error instanceof AppError)
    return { status: error.statusCode, code: error.code, failure: error.message.replace(/\.?$/, ".") };
  if (isInvalidDataError(error)) {
    const invalid = invalidInput();
    return { status: invalid.statusCode, code: invalid.code, failure: `${invalid.message}.` };
  }
  return { status: 500, code: "internal_error", failure: "Something went wrong on our side; it has been logged." };
}

const CHANGE_VERBS: Record<string, string> = {
  created: "added",
  completed: "completed",
  deleted: "deleted",
  updated: "updated",
};

/** The task changes among a turn's tool calls, in words ("added \"Buy milk\" (task #3)"); "" when none. */
function describeChanges(calls: ToolCall[]): string {
  const changes: string[] = [];
  for (const { result } of calls) {
    const change = result as Partial<TaskChange> | undefined;
    const verb = change && typeof change.status === "string" ? CHANGE_VERBS[change.status] : undefined;
    if (verb) changes.push(`${verb} "${change!.title}" (task #${change!.task_id})`);
  }
  return changes.join(", ");
}

/** Runs `work` with the controller's signal, aborting it after `ms` and rejecting with a TimeoutError then at the latest. */
async function withTimeout<T>(
  ms: number,
  controller: AbortController,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
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
