import type { IncomingHttpHeaders } from "node:http";
import { fromNodeHeaders } from "better-auth/node";
import { LRUCache } from "lru-cache";
import type { Auth, AuthenticatedUser } from "./auth.js";

const SESSION_COOKIE = /(?:^|;\s*)((?:__Secure-)?better-auth\.session_token)=([^;]*)/;

/** The credential a request presents (bearer token and/or session cookie), or undefined when it has none. */
export function credentialKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  const cookie = SESSION_COOKIE.exec(headers.cookie ?? "")?.[2];
  if (!authorization && !cookie) return undefined;
  return `${authorization ?? ""}\n${cookie ?? ""}`;
}

/** Session tokens a request's credentials name: the part before the signature, cookie- or URL-encoded or not. */
function sessionTokens(headers: IncomingHttpHeaders): Set<string> {
  const values = [
    SESSION_COOKIE.exec(headers.cookie ?? "")?.[2],
    /^bearer\s+(\S+)/i.exec(headers.authorization ?? "")?.[1],
  ];
  const tokens = new Set<string>();
  for (const value of values) {
    if (!value) continue;
    try {
      tokens.add(decodeURIComponent(value).split(".")[0]!);
    } catch {
      tokens.add(value.split(".")[0]!);
    }
  }
  return tokens;
}

interface CachedSession {
  user: AuthenticatedUser;
  token: string;
}

/**
 * Resolves the signed-in user of an API request through Better Auth, remembering
 * each credential's answer for a few seconds. Better Auth's full session check
 * costs about a millisecond of CPU and two queries; the API and chat routes
 * would otherwise spend most of their time there.
 *
 * Only successful lookups are cached (a forged or unknown credential is checked
 * every time), never past the session's own expiry. Signing out through this
 * replica forgets the credential at once; another replica may accept it for at
 * most `ttlMs` more (SESSION_CACHE_TTL_MS, 0 turns caching off).
 */
export class SessionResolver {
  private readonly cache: LRUCache<string, CachedSession> | undefined;

  constructor(
    private readonly auth: Auth,
    ttlMs: number,
    /** The cache's clock; tests pass their own to step through the TTL window without sleeping. */
    clock?: { now(): number },
  ) {
    this.cache =
      ttlMs > 0
        ? new LRUCache({ max: 10_000, ttl: ttlMs, ...(clock ? { perf: clock, ttlResolution: 0 } : {}) })
        : undefined;
  }

  async resolve(headers: IncomingHttpHeaders): Promise<AuthenticatedUser | undefined> {
    const key = credentialKey(headers);
    if (key === undefined) return undefined;
    const cached = this.cache?.get(key);
    if (cached) return cached.user;
    const session = await this.auth.api.getSession({ headers: fromNodeHeaders(headers) });
    if (!session) return undefined;
    const user = { id: session.user.id, email: session.user.email, name: session.user.name };
    const remaining = new Date(session.session.expiresAt).getTime() - Date.now();
    if (this.cache && remaining > 0) {
      this.cache.set(key, { user, token: session.session.token }, { ttl: Math.min(this.cache.ttl, remaining) });
    }
    return user;
  }

  /**
   * Drops every cached credential of the sessions this request names (after
   * sign-out: the cookie and the bearer token of one session are separate entries).
   * Sign-outs are rare, so a scan of the cache is fine.
   */
  forget(headers: IncomingHttpHeaders): void {
    if (!this.cache) return;
    const tokens = sessionTokens(headers);
    if (tokens.size === 0) return;
    const stale: string[] = [];
    this.cache.forEach((entry, key) => {
      if (tokens.has(entry.token)) stale.push(key);
    });
    for (const key of stale) this.cache.delete(key);
  }
}
