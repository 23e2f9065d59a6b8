/**
 * Forwards a same-origin `/api/*` request to the backend and hands the
 * backend's answer back unchanged: status, headers (every Set-Cookie kept
 * separate) and a streamed body. The browser never learns the backend's
 * address, so one image works behind any host, NodePort or Ingress.
 */

export const DEFAULT_BACKEND_URL = "http://todo-backend:8000";

/**
 * Headers through which a proxy in front tells who the client is and which
 * origin it asked for. Sent by anyone else, they are lies the backend would
 * believe (auth derives the public origin from them).
 */
export const FORWARDING_HEADERS = ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-for", "x-forwarded-port", "forwarded", "x-real-ip"] as const;
const FORWARDING = new Set<string>(FORWARDING_HEADERS);

/**
 * Better Auth's paths, the only ones for which the backend reads the client's
 * address and public origin from X-Forwarded-* (routes/auth.ts: rate limits
 * and the origin check). proxy.ts runs for exactly these; its matcher
 * (`/api/auth/:path*`) must stay in step with this test.
 */
export function isAuthPath(pathname: string): boolean {
  return pathname === "/api/auth" || pathname.startsWith("/api/auth/");
}

/** Headers that describe one hop of the connection, not the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Statuses whose responses never carry a body; `new Response(body)` rejects one. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Network failures that mean "nothing answered", as reported by undici in `error.cause.code`. */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

export interface ProxyOptions {
  /** Value of BACKEND_URL for this request; `undefined` or empty means the default. */
  readonly backendUrl: string | undefined;
  /** Value of TRUST_FORWARDED_HEADERS for this request; see parseTrustForwardedHeaders. */
  readonly trustForwardedHeaders: string | undefined;
  /** Where to report failures the user only sees summarised. @default console.error */
  readonly log?: (message: string) => void;
}

/** The one error shape of the whole API: `{ error: { code, message } }`. */
export function errorResponse(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status, headers: { "cache-control": "no-store" } });
}

/** What the browser is told when the proxy's own configuration is wrong; the details go to the log. */
const MISCONFIGURED =
  "This site is not configured correctly, so it cannot reach its server. The operator will find the details in the server log.";

/**
 * Parses TRUST_FORWARDED_HEADERS: `true` when a proxy or Ingress in front sets
 * X-Forwarded-* (its values are kept), `false` or unset when clients connect
 * directly (their values are replaced). Returns a message naming the variable,
 * the value and what is allowed when it is neither.
 */
export function parseTrustForwardedHeaders(raw: string | undefined): boolean | string {
  const value = raw?.trim() ?? "";
  if (value === "" || value === "false") return false;
  if (value === "true") return true;
  return `TRUST_FORWARDED_HEADERS is "${raw}"; expected "true" (a proxy or Ingress in front sets X-Forwarded-*) or "false" (the default: clients connect directly)`;
}

/**
 * Parses BACKEND_URL. Returns the base URL, or a message naming the variable,
 * the value and what is allowed.
 */
export function parseBackendUrl(raw: string | undefined): URL | string {
  const value = raw === undefined || raw.trim() === "" ? DEFAULT_BACKEND_URL : raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `BACKEND_URL is "${value}", which is not a URL; expected an http(s) URL such as ${DEFAULT_BACKEND_URL}`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `BACKEND_URL is "${value}", whose scheme "${url.protocol}" is not allowed; expected http: or https:`;
  }
  if (url.search !== "" || url.hash !== "") {
    return `BACKEND_URL is "${value}", which has a query or fragment; expected only scheme, host, port and optional path`;
  }
  return url;
}

/** Joins the backend base (which may carry a path prefix) with the incoming path and query. */
function upstreamUrl(base: URL, incoming: URL): URL {
  const prefix = base.pathname.replace(/\/+$/, "");
  return new URL(`${prefix}${incoming.pathname}${incoming.search}`, base.origin);
}

function forwardedRequestHeaders(request: Request, incoming: URL, trustForwarded: boolean): Headers {
  const headers = new Headers();
  const connectionListed = listedInConnection(request.headers);
  // Untrusted, proxy.ts has replaced client-sent X-Forwarded-* with Next's own
  // (from the connection) on auth paths only: running it for every /api call
  // added to each proxied request's cost. Elsewhere whatever arrives may be the
  // client's, and nothing here can tell it from Next's, so it is dropped rather
  // than passed on: the backend does not read these outside auth today, and if
  // that ever changes (or a path reaches its auth routes without matching
  // proxy.ts), it sees no address or scheme instead of forged ones.
  const unchecked = !trustForwarded && !isAuthPath(incoming.pathname);
  for (const [name, value] of request.headers) {
    if (HOP_BY_HOP.has(name) || connectionListed.has(name)) continue;
    if (unchecked && FORWARDING.has(name)) continue;
    // fetch() sets Host from the target URL; undici refuses Expect.
    if (name === "host" || name === "expect") continue;
    headers.append(name, value);
  }
  // fetch() asks for gzip/br by default and decodes the answer itself; identity
  // keeps bytes unchanged end to end (Next compresses toward the browser).
  headers.set("accept-encoding", "identity");
  // The backend derives the public origin for auth from these. A trusted proxy
  // in front has set them: keep what it said and fill in the rest from this
  // hop. Otherwise the client itself is on the other end of the connection and
  // the Host it sent is the origin it asked for. (On auth paths proxy.ts has
  // already removed client-sent X-Forwarded-Proto/-For then, so that Next put
  // in its own, taken from the connection.)
  const host = request.headers.get("host") ?? incoming.host;
  if (!trustForwarded || !headers.has("x-forwarded-host")) headers.set("x-forwarded-host", host);
  // Where the client's X-Forwarded-Proto was dropped above, request.url is no
  // help: Next built its scheme from that same header, so none is sent.
  if (!unchecked && !headers.has("x-forwarded-proto")) {
    headers.set("x-forwarded-proto", incoming.protocol.replace(/:$/, ""));
  }
  return headers;
}

function listedInConnection(headers: Headers): Set<string> {
  const connection = headers.get("connection") ?? "";
  return new Set(
    connection
      .split(",")
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== ""),
  );
}

function responseHeaders(upstream: Response): Headers {
  const headers = new Headers();
  const connectionListed = listedInConnection(upstream.headers);
  // fetch() has already decoded any Content-Encoding it was sent despite our
  // request, so the length and encoding no longer describe the body we pass on.
  const decoded = upstream.headers.has("content-encoding");
  for (const [name, value] of upstream.headers) {
    if (HOP_BY_HOP.has(name) || connectionListed.has(name)) continue;
    if (decoded && (name === "content-encoding" || name === "content-length")) continue;
    headers.append(name, value);
  }
  return headers;
}

function failureCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const cause = (error as { cause?: unknown }).cause;
  if (typeof cause === "object" && cause !== null && "code" in cause) {
    return String((cause as { code: unknown }).code);
  }
  if ("code" in error) return String((error as { code: unknown }).code);
  return undefined;
}

/**
 * The answer to a request that the proxy's configuration makes impossible:
 * the operator reads what is wrong in the log, the browser only learns that
 * something is (a configured address is nobody else's business).
 */
export function misconfigured(code: string, detail: string, log: (message: string) => void): Response {
  log(`[proxy] ${detail}`);
  return errorResponse(500, code, MISCONFIGURED);
}

/**
 * Sends `request` to the backend named by `options.backendUrl` and returns its
 * response. Never throws: an unusable BACKEND_URL or TRUST_FORWARDED_HEADERS is
 * a 500 and an unreachable backend a 502, both in the API's error shape.
 */
export async function proxyToBackend(request: Request, options: ProxyOptions): Promise<Response> {
  const log = options.log ?? ((message: string) => console.error(message));
  const base = parseBackendUrl(options.backendUrl);
  if (typeof base === "string") return misconfigured("BACKEND_URL_INVALID", base, log);
  const trustForwarded = parseTrustForwardedHeaders(options.trustForwardedHeaders);
  if (typeof trustForwarded === "string") return misconfigured("TRUST_FORWARDED_HEADERS_INVALID", trustForwarded, log);

  const incoming = new URL(request.url);
  const target = upstreamUrl(base, incoming);
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;

  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: request.method,
      headers: forwardedRequestHeaders(request, incoming, trustForwarded),
      body: hasBody ? request.body : undefined,
      // Streams the request body instead of buffering it (required by undici for streams).
      ...(hasBody ? { duplex: "half" } : {}),
      // Redirects, such as an OAuth callback's, are for the browser to follow.
      redirect: "manual",
      signal: request.signal,
    } as RequestInit);
  } catch (error) {
    if (request.signal.aborted) {
      // The browser went away; nobody reads this answer.
      return errorResponse(499, "CLIENT_CLOSED_REQUEST", "The request was cancelled.");
    }
    const code = failureCode(error) ?? "UNKNOWN";
    log(`[proxy] ${request.method} ${target.href} failed: ${code} ${error instanceof Error ? error.message : String(error)}`);
    const why = UNREACHABLE_CODES.has(code) ? "is not reachable" : "did not answer";
    return errorResponse(
      502,
      "BACKEND_UNAVAILABLE",
      `The server behind this site ${why} right now (${code}). Please try again in a moment.`,
    );
  }

  const body = NULL_BODY_STATUSES.has(upstream.status) || request.method === "HEAD" ? null : upstream.body;
  return new Response(body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders(upstream),
  });
}
