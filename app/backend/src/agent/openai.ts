import OpenAI from "openai";
import type {
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type { LlmConfig } from "../config.js";
import { AgentProviderError, AgentTimeoutError } from "./errors.js";
import { functionTools, historyMessages, systemPrompt } from "./prompt.js";
import { runToolLoop, type ModelStep } from "./tool-loop.js";
import type { Agent, AgentInput, AgentOutput } from "./types.js";

/**
 * Chat through any OpenAI-compatible Chat Completions endpoint (OpenAI itself,
 * or a local server via OPENAI_BASE_URL) with function calling: the model asks
 * for tools, we run them for the signed-in user and feed the results back,
 * until it answers in words or the step limit is reached.
 */
export class OpenAIAgent implements Agent {
  readonly provider = "openai";
  readonly history = { messages: 20 };
  private readonly client: OpenAI;

  constructor(private readonly llm: LlmConfig) {
    this.client = new OpenAI({
      // Local OpenAI-compatible servers ignore the key, but the SDK insists on one.
      apiKey: llm.openaiApiKey ?? "unused",
      baseURL: llm.openaiBaseUrl,
      timeout: llm.timeoutMs,
      maxRetries: 1,
    });
  }

  async respond({ history, message, tools, signal }: AgentInput): Promise<AgentOutput> {
    const messages: ChatCompletionMessageParam[] = [
      { role: "system", content: systemPrompt() },
      ...historyMessages(history),
      { role: "user", content: message },
    ];
    return runToolLoop({
      provider: this.provider,
      maxSteps: this.llm.maxSteps,
      tools,
      ask: async (lastStep): Promise<ModelStep<ChatCompletionMessageFunctionToolCall>> => {
        const answer = (await this.complete(messages, lastStep, signal)).choices[0]?.message;
        if (!answer) throw new AgentProviderError(this.provider, "the response contained no message");
        const calls = (answer.tool_calls ?? []).filter((call) => call.type === "function");
        return {
          text: answer.content ?? "",
          calls: calls.map((call) => ({ call, name: call.function.name, arguments: call.function.arguments })),
        };
      },
      remember: (step, results) => {
        messages.push({ role: "assistant", content: step.text || null, tool_calls: step.calls.map((c) => c.call) });
        step.calls.forEach(({ call }, i) =>
          messages.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify(results[i]) }),
        );
      },
    });
  }

  private async complete(messages: ChatCompletionMessageParam[], lastStep: boolean, signal: AbortSignal) {
    try {
      return await this.client.chat.completions.create(
        {
          model: this.llm.model,
          messages,
          tools: functionTools(),
          // On the last allowed step the model must answer in words.
          tool_choice: lastStep ? "none" : "auto",
        },
        { signal },
      );
    } catch (error) {
      if (error instanceof OpenAI.APIConnectionTimeoutError || error instanceof OpenAI.APIUserAbortError) {
        throw new AgentTimeoutError(this.provider, this.llm.timeoutMs);
      }
      if (error instanceof OpenAI.APIError) {
        const status = error.status ? `HTTP ${error.status}` : "no response";
        throw new AgentProviderError(this.provider, `${status}: ${error.message}`, { cause: error });
      }
      throw new AgentProviderError(this.provider, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
  }
}
