import type { LlmConfig } from "../config.js";
import { BuiltinAgent } from "./builtin.js";
import { CohereAgent } from "./cohere.js";
import { OpenAIAgent } from "./openai.js";
import type { Agent } from "./types.js";

export function createAgent(llm: LlmConfig): Agent {
  switch (llm.provider) {
    case "builtin":
      return new BuiltinAgent();
    case "openai":
      return new OpenAIAgent(llm);
    case "cohere":
      return new CohereAgent(llm);
  }
}
