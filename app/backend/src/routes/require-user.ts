import type { FastifyReply, FastifyRequest } from "fastify";
import type { AuthenticatedUser } from "../auth/auth.js";
import type { SessionResolver } from "../auth/session-cache.js";
import { errorBody } from "../errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by requireUser on every protected route. */
    user: AuthenticatedUser;
  }
}

/**
 * An onRequest hook that admits only requests carrying a valid session (cookie
 * or `Authorization: Bearer <token>`), before any body is read.
 */
export function requireUser(sessions: SessionResolver, options: { bearerOnly?: boolean } = {}) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    // MCP clients authenticate with a bearer token; a browser's session cookie alone must not
    // let a page drive the tools (DESIGN.md: "bearer-authenticated").
    const headers = options.bearerOnly
      ? /^bearer\s+\S/i.test(request.headers.authorization ?? "")
        ? { authorization: request.headers.authorization }
        : undefined
      : request.headers;
    const user = headers && (await sessions.resolve(headers));
    if (user) {
      request.user = user;
      return;
    }
    if (options.bearerOnly) {
      return reply
        .status(401)
        .header("www-authenticate", 'Bearer realm="todo-backend"')
        .send(
          errorBody(
            "unauthorized",
            "Send an Authorization: Bearer <token> header (a session cookie is not accepted here)",
          ),
        );
    }
    return reply
      .status(401)
      .send(
        errorBody("unauthorized", "Sign in first: send the session cookie or an Authorization: Bearer <token> header"),
      );
  };
}
