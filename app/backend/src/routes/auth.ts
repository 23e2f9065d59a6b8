import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { fromNodeHeaders } from "better-auth/node";
import type {} from "@fastify/rate-limit";
import type { Auth } from "../auth/auth.js";
import type { SessionResolver } from "../auth/session-cache.js";
import { AppError, errorBody } from "../errors.js";

// Underscores are not valid in DNS names but are common in docker-compose service names.
const PROXY_HOST = /^[a-z0-9._-]+(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/i;

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(",")[0]?.trim() || undefined;
}

/**
 * The public origin this request was made to, as the browser saw it. The
 * frontend proxy (and any Ingress before it) sets X-Forwarded-Host/Proto; a
 * direct call falls back to Host. With BETTER_AUTH_URL unset, Better Auth takes
 * the origin from this URL per request, so one image works behind any host or
 * port, and its CSRF check compares the request's Origin with it. A browser
 * cannot forge these headers on a cross-site request, so a foreign page still
 * fails that check.
 */
export function publicOrigin(request: FastifyRequest): string {
  const forwardedProto = firstValue(request.headers["x-forwarded-proto"]);
  const proto = forwardedProto === "https" || forwardedProto === "http" ? forwardedProto : request.protocol;
  const forwardedHost = firstValue(request.headers["x-forwarded-host"]);
  const host = forwardedHost && PROXY_HOST.test(forwardedHost) ? forwardedHost : request.headers.host;
  if (!host || !PROXY_HOST.test(host)) {
    throw new AppError(400, "invalid_host", `The Host header "${host ?? ""}" is not a valid host name`);
  }
  return `${proto}://${host}`;
}

function toFetchRequest(request: FastifyRequest): Request {
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== undefined;
  return new Request(new URL(request.url, publicOrigin(request)), {
    method: request.method,
    headers: fromNodeHeaders(request.headers),
    body: hasBody ? (request.body as Buffer) : undefined,
  });
}

/**
 * Better Auth answers its errors as `{ code, message }` (what its client reads);
 * the shared `error` object is added so every error of the API has one shape.
 */
async function sendFetchResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  response: Response,
): Promise<FastifyReply> {
  reply.status(response.status);
  response.headers.forEach((value, key) => {
    if (key !== "set-cookie" && key !== "content-length" && key !== "content-encoding") reply.header(key, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) reply.header("set-cookie", cookies);
  const text = await response.text();
  if (response.status >= 400 && (response.headers.get("content-type") ?? "").includes("application/json")) {
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      const code = (body.code ?? "auth_error").toLowerCase();
      return reply.send({ ...body, error: { code, message: body.message ?? response.statusText } });
    } catch {
      // not JSON after all: pass it through unchanged
    }
  }
  if (response.status >= 400) {
    // Better Auth answers an unknown path (and a few other errors) with no JSON body.
    const path = request.url.split("?")[0];
    const body =
      response.status === 404
        ? errorBody("not_found", `There is no ${request.method} ${path}`)
        : errorBody("auth_error", text.trim() || response.statusText || `HTTP ${response.status}`);
    return reply.header("content-type", "application/json; charset=utf-8").send(body);
  }
  return reply.send(text === "" ? undefined : text);
}

function signInKey(request: FastifyRequest): string {
  try {
    const body = JSON.parse((request.body as Buffer | undefined)?.toString("utf8") ?? "{}") as { email?: unknown };
    if (typeof body.email === "string" && body.email.trim() !== "") return `sign-in:${body.email.trim().toLowerCase()}`;
  } catch {
    // malformed body: Better Auth rejects it; still count it against the caller's address
  }
  return `sign-in-ip:${request.ip}`;
}

/** Mounts Better Auth at /api/auth/*, with sign-in attempts limited per e-mail address. */
export async function authRoutes(
  app: FastifyInstance,
  options: { auth: Auth; sessions: SessionResolver; signInPerMinute: number },
): Promise<void> {
  // Better Auth parses the body itself from the Fetch Request: hand it the bytes as received.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const response = await options.auth.handler(toFetchRequest(request));
    // Sign-out and session revocation must not be outlived by this replica's session cache.
    if (request.method !== "GET") options.sessions.forget(request.headers);
    return sendFetchResponse(request, reply, response);
  };

  app.route({
    method: "POST",
    url: "/api/auth/sign-in/email",
    config: {
      rateLimit: {
        max: options.signInPerMinute,
        timeWindow: 60_000,
        hook: "preHandler",
        keyGenerator: signInKey,
        errorResponseBuilder: (_request, context) =>
          new AppError(
            429,
            "rate_limited",
            `Too many sign-in attempts for this account: at most ${context.max} per minute. Try again in ${context.after}.`,
          ),
      },
    },
    handler,
  });
  app.route({ method: ["GET", "POST"], url: "/api/auth/*", handler });
}
