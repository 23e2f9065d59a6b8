import type { LlmConfig } from "../config.js";
import { BuiltinAgent } from "./builtin.js";
import type { Agent } from "./types.js";

/**
 * The configured chat agent. Provider SDKs are imported only when chosen: together
 * they add about 30 MiB of resident memory that the builtin agent does not need.
 */
export async function createAgent(llm: LlmConfig): Promise<Agent> {
  switch (llm.provider) {
    case "builtin":
      return new BuiltinAgent();
    case "openai": {
      const { OpenAIAgent } = await import("./openai.js");
      return new OpenAIAgent(llm);
    }
    case "cohere": {
      const { CohereAgent } = await import("./cohere.js");
      return new CohereAgent(llm);
    }
  }
}
