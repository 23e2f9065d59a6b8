import OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { LlmConfig } from "../config.js";
import { AgentProviderError, AgentTimeoutError } from "./errors.js";
import { functionTools, historyMessages, parseToolArguments, stepLimitReply, systemPrompt } from "./prompt.js";
import type { Agent, AgentInput, AgentOutput } from "./types.js";

/**
 * Chat through any OpenAI-compatible Chat Completions endpoint (OpenAI itself,
 * or a local server via OPENAI_BASE_URL) with function calling: the model asks
 * for tools, we run them for the signed-in user and feed the results back,
 * until it answers in words or the step limit is reached.
 */
export class OpenAIAgent implements Agent {
  readonly provider = "openai";
  readonly history = { messages: 20, toolCalls: false };
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
    for (let step = 1; step <= this.llm.maxSteps; step++) {
      const lastStep = step === this.llm.maxSteps;
      const completion = await this.complete(messages, lastStep, signal);
      const answer = completion.choices[0]?.message;
      if (!answer) throw new AgentProviderError(this.provider, "the response contained no message");
      const calls = (answer.tool_calls ?? []).filter((call) => call.type === "function");
      if (calls.length === 0 || lastStep) {
        const reply = answer.content?.trim() || (calls.length > 0 ? stepLimitReply(this.llm.maxSteps) : "");
        if (!reply) throw new AgentProviderError(this.provider, "the model returned an empty answer");
        return { reply, toolCalls: tools.calls };
      }
      messages.push({ role: "assistant", content: answer.content ?? null, tool_calls: calls });
      for (const call of calls) {
        const result = await tools.call(call.function.name, parseToolArguments(call.function.arguments));
        messages.push({ role: "tool", tool_call_id: call.id, content: JSON.stringify(result) });
      }
    }
    return { reply: stepLimitReply(this.llm.maxSteps), toolCalls: tools.calls };
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
