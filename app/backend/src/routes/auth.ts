import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { fromNodeHeaders } from "better-auth/node";
import type {} from "@fastify/rate-limit";
import { isIP } from "node:net";
import { z } from "zod";
import type { Auth } from "../auth/auth.js";
import type { SessionResolver } from "../auth/session-cache.js";
import { AppError, errorBody } from "../errors.js";
import { withoutNul } from "../services/tasks.js";
import { parseInput } from "./validation.js";

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

const parsedBodies = new WeakMap<FastifyRequest, Record<string, unknown> | undefined>();

// Decoded as the Fetch API does for Better Auth: request.json() strips a leading byte order mark
// (Buffer#toString would keep it, and the body would read as malformed here while Better Auth
// accepts it); formData() keeps it, so there it becomes part of the first field's name.
const jsonText = new TextDecoder("utf-8");
const formText = new TextDecoder("utf-8", { ignoreBOM: true });

/** An auth POST's body as Better Auth reads it (JSON or form-encoded), parsed once; undefined when it is neither. */
function authBody(request: FastifyRequest): Record<string, unknown> | undefined {
  if (parsedBodies.has(request)) return parsedBodies.get(request);
  let body: Record<string, unknown> | undefined;
  const raw = request.body as Buffer | undefined;
  const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (raw && raw.length > 0) {
    try {
      if (type === "application/x-www-form-urlencoded") {
        body = Object.fromEntries(new URLSearchParams(formText.decode(raw)));
      } else {
        const value: unknown = JSON.parse(jsonText.decode(raw));
        if (value !== null && typeof value === "object" && !Array.isArray(value))
          body = value as Record<string, unknown>;
      }
    } catch {
      // malformed: Better Auth rejects it too
    }
  }
  parsedBodies.set(request, body);
  return body;
}

/**
 * The client's address: the rightmost X-Forwarded-For entry, the one written by the proxy
 * nearest to us (the frontend replaces the header with the peer it saw; ingress-nginx sets
 * $remote_addr). Entries to its left may come from the client whenever a proxy appends, so
 * they are never used. The backend is reachable only through those two (ClusterIP Service).
 * Without the header, or when that entry is not a plain IP address, the socket's peer counts.
 */
export function clientAddress(request: FastifyRequest): string {
  const header = request.headers["x-forwarded-for"];
  // Node joins repeated X-Forwarded-For headers with ", ", so the last entry is the nearest hop's.
  const forwarded = (Array.isArray(header) ? header.join(",") : header)?.split(",").pop()?.trim();
  return forwarded && isIP(forwarded) !== 0 ? forwarded : request.ip;
}

/**
 * A sign-in's e-mail address, the key of its limits. A body we cannot read it from is refused
 * rather than counted under the caller's address alone, which would let a body Better Auth reads
 * differently from us dodge the per-account limits.
 */
function signInEmail(request: FastifyRequest): string {
  const email = authBody(request)?.email;
  if (typeof email === "string" && email.trim() !== "") return email.trim().toLowerCase();
  throw new AppError(
    400,
    "invalid_request",
    "body.email: a sign-in needs the account's e-mail address as a non-empty string in a JSON object " +
      "(Content-Type: application/json) or a form (Content-Type: application/x-www-form-urlencoded)",
  );
}

export const NAME_MAX = 100;

/** What Better Auth would store on a user: checked here, since its own schema allows any string. */
const UserFields = z.looseObject({
  name: withoutNul(
    z
      .string()
      .trim()
      .max(NAME_MAX, { message: `must be at most ${NAME_MAX} characters` }),
  ).optional(),
  image: z
    .string()
    .refine(
      (value) => {
        try {
          const url = new URL(value);
          return url.protocol === "http:" || url.protocol === "https:";
        } catch {
          return false;
        }
      },
      { message: "expected an http:// or https:// URL" },
    )
    .nullable()
    .optional(),
});

export interface AuthLimits {
  /** Sign-in attempts per e-mail address and client address per minute. */
  signInPerMinute: number;
  /** Sign-in attempts per e-mail address from all client addresses per minute. */
  signInPerAccountPerMinute: number;
  /** Sign-ups per client address per minute. */
  signUpPerMinute: number;
}

/** Mounts Better Auth at /api/auth/*, with the rate limits and input checks it does not do itself. */
export async function authRoutes(
  app: FastifyInstance,
  options: { auth: Auth; sessions: SessionResolver; limits: AuthLimits },
): Promise<void> {
  const { limits, sessions } = options;
  // Better Auth parses the body itself from the Fetch Request: hand it the bytes as received.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const response = await options.auth.handler(toFetchRequest(request));
    // Sign-out and session revocation must not be outlived by this replica's session cache.
    if (request.method !== "GET") sessions.forget(request.headers);
    return sendFetchResponse(request, reply, response);
  };

  // createRateLimit rather than the plugin's route hook: sign-in checks two limits per request,
  // and the plugin's hook runs only once per request.
  const limit = (
    max: number,
    keyGenerator: (request: FastifyRequest) => string | Promise<string>,
    what: (max: number, after: string) => string,
  ) => {
    const check = app.createRateLimit({ max, timeWindow: 60_000, keyGenerator });
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const result = await check(request);
      if (result.isAllowed || !result.isExceeded) return;
      reply.header("retry-after", result.ttlInSeconds);
      throw new AppError(429, "rate_limited", what(result.max, `${result.ttlInSeconds} s`));
    };
  };

  const validateUserFields = async (request: FastifyRequest) => {
    parseInput(UserFields, authBody(request) ?? {}, "body");
  };

  // Per (e-mail, address): wrong passwords from one place hold up only that place, so this limit
  // alone never locks the owner out. The looser per-e-mail cap bounds guessing spread over many
  // addresses, at a price: a sustained flood against one e-mail from anywhere delays its owner's
  // new sign-ins while it lasts (existing sessions are unaffected).
  app.post(
    "/api/auth/sign-in/email",
    {
      preHandler: [
        async (request) => {
          signInEmail(request);
        },
        limit(
          limits.signInPerMinute,
          (request) => `sign-in:${signInEmail(request)}:${clientAddress(request)}`,
          (max, after) =>
            `Too many sign-in attempts for this account from your address: at most ${max} per minute. Try again in ${after}.`,
        ),
        limit(
          limits.signInPerAccountPerMinute,
          (request) => `sign-in-account:${signInEmail(request)}`,
          (max, after) =>
            `Too many sign-in attempts for this account: at most ${max} per minute from all addresses. Try again in ${after}.`,
        ),
      ],
    },
    handler,
  );
  app.post(
    "/api/auth/sign-up/email",
    {
      preHandler: [
        limit(
          limits.signUpPerMinute,
          (request) => `sign-up:${clientAddress(request)}`,
          (max, after) => `Too many sign-ups from your address: at most ${max} per minute. Try again in ${after}.`,
        ),
        validateUserFields,
      ],
    },
    handler,
  );
  app.post("/api/auth/update-user", { preHandler: validateUserFields }, handler);

  // Endpoints that check the current password are guessing oracles like sign-in: limited per user.
  const passwordLimit = limit(
    limits.signInPerMinute,
    async (request) => {
      const user = await sessions.resolve(request.headers);
      return user ? `password:${user.id}` : `password-address:${clientAddress(request)}`;
    },
    (max, after) => `Too many password attempts for this account: at most ${max} per minute. Try again in ${after}.`,
  );
  for (const url of ["/api/auth/change-password", "/api/auth/verify-password", "/api/auth/delete-user"]) {
    app.post(url, { preHandler: passwordLimit }, handler);
  }

  app.route({ method: ["GET", "POST"], url: "/api/auth/*", handler });
}
