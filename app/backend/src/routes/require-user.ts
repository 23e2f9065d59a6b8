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
export function requireUser(sessions: SessionResolver, options: { wwwAuthenticate?: boolean } = {}) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const user = await sessions.resolve(request.headers);
    if (user) {
      request.user = user;
      return;
    }
    if (options.wwwAuthenticate) reply.header("www-authenticate", 'Bearer realm="todo-backend"');
    return reply
      .status(401)
      .send(
        errorBody("unauthorized", "Sign in first: send the session cookie or an Authorization: Bearer <token> header"),
      );
  };
}
