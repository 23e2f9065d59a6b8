import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

export interface Session {
  userId: string;
  email: string;
  /** Bearer token from the `set-auth-token` header. */
  token: string;
  /** The session cookie as a `Cookie` header value. */
  cookie: string;
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function request<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; cookie?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  // Like a browser (or the frontend proxy forwarding one), send the page's Origin: Node's fetch adds
  // Sec-Fetch-Mode, and Better Auth then requires an Origin on sign-in and sign-up.
  const headers: Record<string, string> = { origin: baseUrl, ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if (text && (response.headers.get("content-type") ?? "").includes("json")) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T };
}

export function cookieHeader(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0])
    .join("; ");
}

/** Signs up a new user with a unique e-mail and returns both credentials the API accepts. */
export async function signUp(
  baseUrl: string,
  options: { email?: string; password?: string; headers?: Record<string, string> } = {},
): Promise<Session> {
  const email = options.email ?? `user-${randomUUID()}@example.com`;
  const response = await request(baseUrl, "POST", "/api/auth/sign-up/email", {
    body: { email, password: options.password ?? "correct horse battery", name: email.split("@")[0] },
    headers: options.headers,
  });
  assert.equal(response.status, 200, `sign-up failed: ${JSON.stringify(response.body)}`);
  const token = response.headers.get("set-auth-token");
  assert.ok(token, "sign-up returns a bearer token in set-auth-token");
  return { userId: response.body.user.id, email, token, cookie: cookieHeader(response.headers) };
}

export function assertError(response: JsonResponse, status: number, code: string, messagePattern?: RegExp): void {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body?.error?.code, code, JSON.stringify(response.body));
  assert.equal(typeof response.body.error.message, "string");
  if (messagePattern) assert.match(response.body.error.message, messagePattern);
}
