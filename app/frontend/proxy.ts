/**
 * Next's request hook (the file convention formerly called middleware), for
 * /api/auth/* only: decides whether the X-Forwarded-* headers of a request may
 * be believed before lib/backend-proxy.ts passes them to the backend. Only
 * auth needs the client's real address and origin, and running the hook adds
 * measurably to the frontend's CPU per proxied request (bench/results.md), so
 * the other /api paths skip it; the route handler drops their untrusted
 * forwarding headers itself.
 */
import { NextResponse, type NextRequest } from "next/server";

import { FORWARDING_HEADERS, misconfigured, parseTrustForwardedHeaders } from "@/lib/backend-proxy";

export function proxy(request: NextRequest): NextResponse | Response {
  // Read per request, like BACKEND_URL: one image serves every environment.
  const trusted = parseTrustForwardedHeaders(process.env.TRUST_FORWARDED_HEADERS);
  if (typeof trusted === "string") {
    return misconfigured("TRUST_FORWARDED_HEADERS_INVALID", trusted, (message) => console.error(message));
  }
  if (trusted) return NextResponse.next();

  // Nobody in front: whoever sent these chose them. Without them, Next fills
  // X-Forwarded-Host from Host, -Proto from whether it served TLS itself and
  // -For from the connection's remote address before the route runs.
  const headers = new Headers(request.headers);
  for (const name of FORWARDING_HEADERS) headers.delete(name);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  // A literal, as Next reads it at build time; the same paths as isAuthPath().
  matcher: "/api/auth/:path*",
};
