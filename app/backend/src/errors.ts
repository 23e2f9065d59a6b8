/** The one error body of the whole API: `{ "error": { "code", "message" } }`. */
export interface ErrorBody {
  error: { code: string; message: string } & Record<string, unknown>;
}

/**
 * An error that is the client's business: it carries the HTTP status, a stable
 * machine-readable code and a message that says what was wrong.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Extra fields placed inside the error object (e.g. the conversationId a failed chat was stored in). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "AppError";
  }

  toBody(): ErrorBody {
    return errorBody(this.code, this.message, this.details);
  }
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, ...details } };
}

export function notFound(what: string): AppError {
  return new AppError(404, "not_found", `${what} not found`);
}
