/**
 * Forwards a same-origin `/api/*` request to the backend and hands the
 * backend's answer back unchanged: status, headers (every Set-Cookie kept
 * separate) and the body bytes, streamed both ways. The browser never learns
 * the backend's address, so one image works behind any host, NodePort or
 * Ingress.
 *
 * It runs on Node's own request and response (server.ts calls it before Next
 * sees the request) and talks to the backend through a pooled undici Agent:
 * Next's route-handler pipeline cost about 2 ms of CPU per request, several
 * times what the backend spends answering one (bench/results.md).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { PassThrough, pipeline } from "node:stream";

import { Agent, type Dispatcher } from "undici";

import { SECURITY_HEADERS } from "./security-headers";

export const DEFAULT_BACKEND_URL = "http://todo-backend:8000";

/**
 * Headers through which a proxy in front tells who the client is and which
 * origin it asked for. Sent by anyone else, they are lies the backend would
 * believe (auth derives the public origin from them).
 */
export const FORWARDING_HEADERS = ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-for", "x-forwarded-port", "forwarded", "x-real-ip"] as const;

/** The paths this proxy answers; everything else is Next's. */
export function isApiPath(pathname: string): boolean {
  return pathname === "/api" || pathname.startsWith("/api/");
}

/**
 * Better Auth's paths, the only ones for which the backend reads the client's
 * address and public origin from X-Forwarded-* (routes/auth.ts: rate limits
 * and the origin check).
 */
export function isAuthPath(pathname: string): boolean {
  return pathname === "/api/auth" || pathname.startsWith("/api/auth/");
}

/**
 * The request target as the proxy reads it: dot segments (also `%2e%2e`)
 * resolved, so the path that is classified is the path that is sent.
 */
export function parseTarget(rawUrl: string | undefined): URL {
  // The base only supplies a scheme and host to resolve against; neither is used.
  return new URL(rawUrl ?? "/", "http://frontend.invalid");
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

/** Network failures that mean "nothing answered". */
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
  /** Value of BACKEND_URL; `undefined` or empty means the default. */
  readonly backendUrl: string | undefined;
  /** Value of TRUST_FORWARDED_HEADERS; see parseTrustForwardedHeaders. */
  readonly trustForwardedHeaders: string | undefined;
  /** Where to report failures the user only sees summarised. @default console.error */
  readonly log?: (message: string) => void;
}

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

/** What the browser is told when the proxy's own configuration is wrong; the details go to the log. */
const MISCONFIGURED =
  "This site is not configured correctly, so it cannot reach its server. The operator will find the details in the server log.";

type OutgoingHeaders = Record<string, string | string[]>;

function listedInConnection(value: string | string[] | undefined): Set<string> {
  const joined = Array.isArray(value) ? value.join(",") : (value ?? "");
  return new Set(
    joined
      .split(",")
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== ""),
  );
}

function withSecurityHeaders(headers: OutgoingHeaders): OutgoingHeaders {
  // The backend's own choice, should it make one, wins: it knows its answer.
  for (const { key, value } of SECURITY_HEADERS) headers[key.toLowerCase()] ??= value;
  return headers;
}

/** Answers in the API's one error shape, `{ error: { code, message } }`, with the headers every answer carries. */
function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(
    status,
    withSecurityHeaders({ "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "cache-control": "no-store" }),
  );
  res.end(body);
}

function requestHeaders(req: IncomingMessage, pathname: string, trustForwarded: boolean): OutgoingHeaders {
  const incoming: IncomingHttpHeaders = req.headers;
  const connectionListed = listedInConnection(incoming.connection);
  const headers: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionListed.has(name)) continue;
    // undici sets Host from the backend's address, and refuses Expect (Node's
    // server has already answered 100-continue to the client).
    if (name === "host" || name === "expect") continue;
    headers[name] = value;
  }

  const host = incoming.host ?? "";
  const fromConnection = {
    "x-forwarded-host": host,
    "x-forwarded-proto": (req.socket as TLSSocket).encrypted ? "https" : "http",
    "x-forwarded-for": req.socket.remoteAddress ?? "",
    "x-forwarded-port": String(req.socket.localPort ?? ""),
  };
  if (trustForwarded) {
    // A proxy in front has set them: keep what it said, fill in what it left out from this hop.
    for (const [name, value] of Object.entries(fromConnection)) if (value !== "") headers[name] ??= value;
    return headers;
  }
  // Nobody in front: whoever sent these chose them.
  for (const name of FORWARDING_HEADERS) delete headers[name];
  if (isAuthPath(pathname)) {
    // Auth reads the client's address and public origin: tell it what the connection says.
    for (const [name, value] of Object.entries(fromConnection)) if (value !== "") headers[name] = value;
  } else if (host !== "") {
    // Elsewhere the backend reads none of them today. The Host asked for is the
    // origin either way; an address or scheme it is not sent cannot be forged.
    headers["x-forwarded-host"] = host;
  }
  return headers;
}

function responseHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHeaders {
  const connectionListed = listedInConnection(upstream.connection);
  const headers: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionListed.has(name)) continue;
    headers[name] = value;
  }
  return withSecurityHeaders(headers);
}

function failureCode(error: unknown): string {
  if (typeof error !== "object" || error === null) return "UNKNOWN";
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof cause === "object" && cause !== null && cause.code !== undefined) return String(cause.code);
  return code === undefined ? "UNKNOWN" : String(code);
}

function describeError(error: unknown): string {
  return `${failureCode(error)} ${error instanceof Error ? error.message : String(error)}`;
}

function isPrematureClose(error: unknown): boolean {
  return failureCode(error) === "ERR_STREAM_PREMATURE_CLOSE";
}

function hasBody(req: IncomingMessage): boolean {
  if (req.method === "GET" || req.method === "HEAD") return false;
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

export interface BackendProxy {
  /** Answers one `/api/*` request; `target` is parseTarget(req.url). Never throws. */
  handle(req: IncomingMessage, res: ServerResponse, target: URL): void;
  /** Closes the pooled connections to the backend. */
  close(): Promise<void>;
}

/**
 * Reads BACKEND_URL and TRUST_FORWARDED_HEADERS once and returns the proxy.
 * An unusable value is logged now and answered with a 500 (the variable named
 * in the log only) on every request, so that /health and the pages still
 * serve and the operator finds the reason in the log of a running pod.
 */
export function createBackendProxy(options: ProxyOptions, dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 4_000 })): BackendProxy {
  const log = options.log ?? ((message: string) => console.error(message));
  const base = parseBackendUrl(options.backendUrl);
  const trustForwarded = parseTrustForwardedHeaders(options.trustForwardedHeaders);
  if (typeof base === "string" || typeof trustForwarded === "string") {
    const [code, detail] =
      typeof base === "string" ? ["BACKEND_URL_INVALID", base] : ["TRUST_FORWARDED_HEADERS_INVALID", String(trustForwarded)];
    log(`[proxy] ${detail}`);
    return {
      handle(_req, res) {
        log(`[proxy] ${detail}`);
        // The body is not read; Node discards it once the answer is sent.
        sendError(res, 500, code, MISCONFIGURED);
      },
      close: () => dispatcher.close(),
    };
  }

  const { origin } = base;
  const prefix = base.pathname.replace(/\/+$/, "");
  const trusted = trustForwarded;

  function handle(req: IncomingMessage, res: ServerResponse, target: URL): void {
    const path = `${prefix}${target.pathname}${target.search}`;

    // The client's body goes through a stream of its own: when the backend
    // answers early (a 413 while the upload is still running) undici destroys
    // what it was reading from, and that must not be the client's connection.
    let body: PassThrough | undefined;
    if (hasBody(req)) {
      body = new PassThrough();
      body.on("error", () => {}); // The request's outcome is reported by request() below.
      req.pipe(body);
    }
    const aborted = new AbortController();
    const clientLeft = () => {
      if (!res.writableFinished) aborted.abort();
    };
    res.once("close", clientLeft);
    const settled = () => {
      res.off("close", clientLeft);
      if (body === undefined) return;
      // Whatever the client still uploads after the answer is read and
      // dropped, so its keep-alive connection carries the next request.
      req.unpipe(body);
      body.destroy();
      if (!req.readableEnded) req.resume();
    };

    dispatcher
      .request({
        origin,
        path,
        method: req.method as Dispatcher.HttpMethod,
        headers: requestHeaders(req, target.pathname, trusted),
        body,
        signal: aborted.signal,
      })
      .then(
        (upstream) => {
          res.writeHead(upstream.statusCode, responseHeaders(upstream.headers));
          pipeline(upstream.body, res, (error) => {
            settled();
            // The client leaving ends the pipeline too (a premature close of
            // res); only the backend breaking off is worth a line in the log.
            if (error && !aborted.signal.aborted && !isPrematureClose(error)) {
              log(`[proxy] ${req.method} ${origin}${path} broke off: ${describeError(error)}`);
            }
          });
        },
        (error: unknown) => {
          settled();
          if (aborted.signal.aborted) return; // The client went away; nobody reads an answer.
          log(`[proxy] ${req.method} ${origin}${path} failed: ${describeError(error)}`);
          const code = failureCode(error);
          const why = UNREACHABLE_CODES.has(code) ? "is not reachable" : "did not answer";
          sendError(res, 502, "BACKEND_UNAVAILABLE", `The server behind this site ${why} right now (${code}). Please try again in a moment.`);
        },
      );
  }

  return { handle, close: () => dispatcher.close() };
}
