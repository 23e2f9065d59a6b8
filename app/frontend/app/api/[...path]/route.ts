import { proxyToBackend } from "@/lib/backend-proxy";

// Every call depends on the caller's cookies and on BACKEND_URL at run time.
export const dynamic = "force-dynamic";

function forward(request: Request): Promise<Response> {
  // Read per request, not at build time: one image serves every environment.
  return proxyToBackend(request, {
    backendUrl: process.env.BACKEND_URL,
    trustForwardedHeaders: process.env.TRUST_FORWARDED_HEADERS,
  });
}

export { forward as GET, forward as HEAD, forward as POST, forward as PUT, forward as PATCH, forward as DELETE, forward as OPTIONS };
