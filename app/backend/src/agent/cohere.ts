import { CohereClientV2, CohereError, CohereTimeoutError, type Cohere } from "cohere-ai";
import type { LlmConfig } from "../config.js";
import { AgentProviderError, AgentTimeoutError } from "./errors.js";
import { functionTools, historyMessages, systemPrompt } from "./prompt.js";
import { runToolLoop, type ModelStep } from "./tool-loop.js";
import type { Agent, AgentInput, AgentOutput } from "./types.js";

/**
 * Chat through Cohere's v2 Chat API with tool use, with the same loop as the
 * OpenAI agent: run the requested tools, return their results, repeat until the
 * model answers in words or the step limit is reached.
 */
export class CohereAgent implements Agent {
  readonly provider = "cohere";
  readonly history = { messages: 20 };
  private readonly client: CohereClientV2;

  constructor(private readonly llm: LlmConfig) {
    this.client = new CohereClientV2({
      token: llm.cohereApiKey,
      ...(llm.cohereBaseUrl ? { baseUrl: llm.cohereBaseUrl } : {}),
      timeoutInSeconds: Math.ceil(llm.timeoutMs / 1000),
      maxRetries: 1,
    });
  }

  async respond({ history, message, tools, signal }: AgentInput): Promise<AgentOutput> {
    const messages: Cohere.ChatMessageV2[] = [
      { role: "system", content: systemPrompt() },
      ...historyMessages(history),
      { role: "user", content: message },
    ];
    return runToolLoop({
      provider: this.provider,
      maxSteps: this.llm.maxSteps,
      tools,
      ask: async (lastStep): Promise<ModelStep<Cohere.ToolCallV2> & { plan?: string }> => {
        const answer = (await this.chat(messages, lastStep, signal)).message;
        const text = (answer.content ?? []).map((item) => (item.type === "text" ? item.text : "")).join("");
        const calls = (answer.toolCalls ?? []).filter((call) => call.function?.name);
        return {
          text,
          plan: answer.toolPlan,
          calls: calls.map((call) => ({ call, name: call.function!.name!, arguments: call.function!.arguments })),
        };
      },
      remember: (step: ModelStep<Cohere.ToolCallV2> & { plan?: string }, results) => {
        messages.push({ role: "assistant", toolCalls: step.calls.map((c) => c.call), toolPlan: step.plan });
        step.calls.forEach(({ call }, i) =>
          messages.push({ role: "tool", toolCallId: call.id, content: JSON.stringify(results[i]) }),
        );
      },
    });
  }

  private async chat(messages: Cohere.ChatMessageV2[], lastStep: boolean, signal: AbortSignal) {
    try {
      return await this.client.chat(
        {
          model: this.llm.model,
          messages,
          tools: functionTools(),
          // On the last allowed step the model must answer in words.
          ...(lastStep ? { toolChoice: "NONE" as const } : {}),
        },
        { abortSignal: signal },
      );
    } catch (error) {
      if (error instanceof CohereTimeoutError || signal.aborted) {
        throw new AgentTimeoutError(this.provider, this.llm.timeoutMs);
      }
      if (error instanceof CohereError) {
        const status = error.statusCode ? `HTTP ${error.statusCode}` : "no response";
        throw new AgentProviderError(this.provider, `${status}: ${error.message}`, { cause: error });
      }
      throw new AgentProviderError(this.provider, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
  }
}
