import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import rateLimit from "@fastify/rate-limit";
import secureJson from "secure-json-parse";
import type { Auth } from "./auth/auth.js";
import { SessionResolver } from "./auth/session-cache.js";
import type { Agent } from "./agent/types.js";
import type { Config } from "./config.js";
import type { DatabaseHandle } from "./db/database.js";
import { AppError, errorBody, invalidInput, isInvalidDataError } from "./errors.js";
import type { Logger } from "./logger.js";
import { authRoutes } from "./routes/auth.js";
import { chatRoutes } from "./routes/chat.js";
import { conversationRoutes } from "./routes/conversations.js";
import { healthRoutes } from "./routes/health.js";
import { mcpRoutes } from "./routes/mcp.js";
import { requireUser } from "./routes/require-user.js";
import { taskRoutes } from "./routes/tasks.js";
import { ChatService } from "./services/chat.js";
import { ConversationService } from "./services/conversations.js";
import type { Readiness } from "./services/readiness.js";
import { TaskService } from "./services/tasks.js";

/** Request bodies are small JSON documents; anything bigger is refused with 413. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The largest refused body whose rest is read and dropped so that the connection stays open;
 * past it (or with no Content-Length) the connection is closed instead, as Fastify does, to
 * bound what a client can make the server read for nothing.
 */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

function drainable(contentLength: string | undefined): boolean {
  const declared = Number(contentLength);
  return contentLength !== undefined && Number.isSafeInteger(declared) && declared <= DRAIN_LIMIT_BYTES;
}

export interface AppContext {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  auth: Auth;
  agent: Agent;
  readiness: Readiness;
}

/** Methods whose requests carry no body: an empty one is fine whatever Content-Type says. */
const BODYLESS_METHODS = new Set(["GET", "HEAD", "DELETE", "OPTIONS"]);

/** A client-sent X-Request-Id becomes the log's request id only when it is short and plain. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * JSON bodies through secure-json-parse: `__proto__` (and `constructor.prototype`) keys are
 * refused with their own message, and a body-less method may send an empty body with
 * Content-Type: application/json (some HTTP clients always set it).
 */
function parseJsonBody(request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void) {
  if (body.length === 0) {
    if (BODYLESS_METHODS.has(request.method)) return done(null, undefined);
    return done(new AppError(400, "invalid_json", "The body is empty but Content-Type says JSON: send a JSON object"));
  }
  try {
    done(null, secureJson.parse(body, undefined, { protoAction: "error", constructorAction: "error" }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/forbidden prototype property/.test(message)) {
      return done(
        new AppError(
          400,
          "forbidden_key",
          'body: the keys "__proto__" and "constructor" are not allowed in a JSON body (they name object prototypes); rename them',
        ),
      );
    }
    done(new AppError(400, "invalid_json", `The body is not valid JSON: ${message}`));
  }
}

/** A route's URL pattern as a regular expression over request paths (`:id` is one segment, `*` the rest). */
function routePattern(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === "*" ? ".*" : part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`);
}

/** The shared error body and status for anything a handler throws. */
export function toErrorResponse(
  error: FastifyError,
  request?: FastifyRequest,
): { status: number; body: ReturnType<typeof errorBody> } {
  if (error instanceof AppError) return { status: error.statusCode, body: error.toBody() };
  if (isInvalidDataError(error)) return { status: 400, body: invalidInput().toBody() };
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: errorBody(
          "payload_too_large",
          `The request body is larger than the ${BODY_LIMIT_BYTES / 1024} KiB limit`,
        ),
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: errorBody(
          "unsupported_media_type",
          `Content-Type "${request?.headers["content-type"] ?? ""}" is not accepted: send the body as JSON with Content-Type: application/json`,
        ),
      };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, body: errorBody("invalid_json", "The body is empty but Content-Type says JSON") };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { status: 400, body: errorBody("invalid_json", `The body is not valid JSON: ${error.message}`) };
  }
  const status = error.statusCode ?? 500;
  if (status === 400 && error instanceof SyntaxError) {
    return { status, body: errorBody("invalid_json", `The body is not valid JSON: ${error.message}`) };
  }
  if (status >= 400 && status < 500) return { status, body: errorBody("bad_request", error.message) };
  return { status: 500, body: errorBody("internal_error", "Something went wrong on our side; it has been logged") };
}

/** One log line per request; Fastify's default two (received + completed) double the log volume. */
class OneLineRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    };
    if (error) reply.log.error({ ...line, err: error }, "request errored");
    else reply.log.info(line, "request");
  }
}

/** The HTTP application: every route, the error shape, and per-user rate limits. */
export async function buildApp(context: AppContext): Promise<FastifyInstance> {
  const { config, auth, readiness } = context;
  let requestCounter = 0;
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance type the default one.
    loggerInstance: context.logger as FastifyBaseLogger,
    logController: new OneLineRequestLog(),
    bodyLimit: BODY_LIMIT_BYTES,
    // X-Request-Id is read in genReqId, so a long or odd value cannot become the log's id.
    requestIdHeader: false,
    genReqId: (raw) => {
      const given = raw.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : `req-${(++requestCounter).toString(36)}`;
    },
  });

  const tasks = new TaskService(context.database);
  const conversations = new ConversationService(context.database);
  const chat = new ChatService(context.agent, tasks, conversations, config.llm.timeoutMs, context.logger);

  const sessions = new SessionResolver(auth, config.sessionCacheTtlMs);

  app.decorateRequest("user", null as never);

  // JSON only: a JSON document sent as text/plain is a 415, not a string that fails validation.
  app.removeContentTypeParser(["text/plain", "application/json"]);
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) =>
    parseJsonBody(request, body as string, done),
  );

  // Which methods each route pattern answers, so a known path asked with another method is a 405.
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook("onRoute", (route) => {
    const methods = [route.method].flat();
    routes.push({ pattern: routePattern(route.url ?? route.path), methods: new Set(methods) });
  });
  const allowedMethods = (path: string): string[] => {
    const allowed = new Set<string>();
    for (const route of routes) if (route.pattern.test(path)) for (const method of route.methods) allowed.add(method);
    if (allowed.has("GET")) allowed.add("HEAD");
    return [...allowed].sort();
  };

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = toErrorResponse(error, request);
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE" && drainable(request.headers["content-length"])) {
      // Fastify marks this answer Connection: close because the client may still be sending.
      // Closing a socket that holds unread data makes the kernel reset it, and a client that is
      // still uploading then loses the 413 (EPIPE or ECONNRESET instead). Left open, the
      // connection has Node read and drop the rest of the body, and then carries the next request.
      reply.removeHeader("connection");
    }
    if (status >= 500) request.log.error({ err: error }, "request failed");
    else if (isInvalidDataError(error))
      request.log.warn({ err: error }, "the database refused a value as invalid data");
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0]!;
    const allowed = allowedMethods(path);
    if (allowed.length > 0) {
      return reply
        .status(405)
        .header("allow", allowed.join(", "))
        .send(
          errorBody(
            "method_not_allowed",
            `${path} does not answer ${request.method}; it answers ${allowed.join(", ")}`,
          ),
        );
    }
    return reply.status(404).send(errorBody("not_found", `There is no ${request.method} ${path}`));
  });

  // Once shutdown has begun, every response closes its connection: a keep-alive socket that
  // goes idle after close() started would otherwise hold the server open until it times out.
  app.addHook("onSend", async (_request, reply) => {
    if (readiness.isShuttingDown) reply.header("connection", "close");
  });

  await app.register(rateLimit, { global: false });
  await app.register(healthRoutes, { readiness });
  await app.register(authRoutes, {
    auth,
    sessions,
    limits: {
      signInPerMinute: config.rateLimits.signInPerMinute,
      signInPerAccountPerMinute: config.rateLimits.signInPerAccountPerMinute,
      signUpPerMinute: config.rateLimits.signUpPerMinute,
    },
  });
  await app.register(async (api) => {
    api.addHook("onRequest", requireUser(sessions));
    await api.register(taskRoutes, { tasks });
    await api.register(chatRoutes, { chat, chatPerMinute: config.rateLimits.chatPerMinute });
    await api.register(conversationRoutes, { conversations });
  });
  await app.register(async (mcp) => {
    mcp.addHook("onRequest", requireUser(sessions, { bearerOnly: true }));
    await mcp.register(mcpRoutes, { tasks });
  });
  return app;
}
