import { AgentProviderError } from "./errors.js";
import { parseToolArguments, stepLimitReply } from "./prompt.js";
import type { TaskTools, ToolResult } from "./tools.js";
import type { AgentOutput } from "./types.js";

/** What a model answered in one step: words, and the tools it wants run. */
export interface ModelStep<Call> {
  text: string;
  calls: { call: Call; name: string; arguments: string | undefined }[];
}

/**
 * The tool-calling loop both model agents share: ask the model; if it wants
 * tools, run them for the signed-in user, hand back the results and ask again;
 * stop when it answers in words. The last allowed step is asked with tools
 * disabled, so a model cannot keep calling tools forever.
 */
export async function runToolLoop<Call>(options: {
  provider: string;
  maxSteps: number;
  tools: TaskTools;
  ask: (lastStep: boolean) => Promise<ModelStep<Call>>;
  /** Appends the model's tool request and our results to the provider's message list. */
  remember: (step: ModelStep<Call>, results: ToolResult[]) => void;
}): Promise<AgentOutput> {
  const { provider, maxSteps, tools } = options;
  for (let step = 1; step <= maxSteps; step++) {
    const lastStep = step === maxSteps;
    const answer = await options.ask(lastStep);
    if (answer.calls.length === 0 || lastStep) {
      const reply = answer.text.trim() || (answer.calls.length > 0 ? stepLimitReply(maxSteps) : "");
      if (!reply) throw new AgentProviderError(provider, "the model returned an empty answer");
      return { reply, toolCalls: tools.calls };
    }
    const results: ToolResult[] = [];
    for (const call of answer.calls) results.push(await tools.call(call.name, parseToolArguments(call.arguments)));
    options.remember(answer, results);
  }
  return { reply: stepLimitReply(maxSteps), toolCalls: tools.calls };
}
