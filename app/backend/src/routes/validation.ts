import { z } from "zod";
import { AppError } from "../errors.js";

type Location = "body" | "query" | "params";

function describeReceived(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string")
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Parses request input with a schema at the edge of the API. On failure the 400
 * message names each bad field, what was received and what is allowed.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, location: Location): z.output<S> {
  if (input === null && location === "body")
    throw new AppError(400, "invalid_request", "body: expected a JSON object, got null");
  const result = schema.safeParse(input ?? (location === "body" ? undefined : {}));
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = [location, ...issue.path.map(String)].join(".");
    if (issue.code === "unrecognized_keys") {
      const allowed = schema instanceof z.ZodObject ? Object.keys(schema.shape).join(", ") : "none";
      return `${field}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (allowed: ${allowed})`;
    }
    if (issue.path.length === 0 && input === undefined && location === "body") {
      return "body: a JSON object is required (send Content-Type: application/json)";
    }
    return `${field}: ${issue.message} (got ${describeReceived(valueAt(input, issue.path))})`;
  });
  throw new AppError(400, "invalid_request", problems.join("; "));
}

/** A positive 32-bit integer id from a path or query string ("12"). */
export const IdParam = z
  .string()
  .regex(/^[1-9]\d{0,9}$/, { message: "expected a positive whole number" })
  .transform(Number)
  .refine((n) => n <= 2147483647, { message: "expected a positive whole number up to 2147483647" });
