import pg from "pg";

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

/**
 * PostgreSQL refused a value as data (SQLSTATE class 22: out of range, bad encoding, ...) or
 * a CHECK constraint (23514). The request validation should catch these first; this is the
 * safety net that keeps one that slips through a 400 instead of a 500.
 */
export function isInvalidDataError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError && (error.code?.startsWith("22") === true || error.code === "23514");
}

/** The generic answer for isInvalidDataError: the driver's text (table, column, value) stays in the log. */
export function invalidInput(): AppError {
  return new AppError(
    400,
    "invalid_input",
    "A value in the request cannot be stored (the database refused it as invalid data); check the fields' formats and lengths",
  );
}
