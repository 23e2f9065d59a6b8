/** The model provider did not answer within the chat's time budget (-> 504). */
export class AgentTimeoutError extends Error {
  constructor(
    readonly provider: string,
    timeoutMs: number,
  ) {
    super(`The ${provider} model did not answer within ${Math.round(timeoutMs / 1000)} s`);
    this.name = "AgentTimeoutError";
  }
}

/** The model provider failed or answered something unusable (-> 502). */
export class AgentProviderError extends Error {
  constructor(
    readonly provider: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`The ${provider} model request failed: ${detail}`, options);
    this.name = "AgentProviderError";
  }
}
