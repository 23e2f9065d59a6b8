/**
 * Sent with every answer: by Next (next.config.ts) with pages and assets, and
 * by server.ts with the /api answers it proxies, which never reach Next. The
 * content security policy only forbids framing: a policy that also restricts
 * scripts would need a per-request nonce for Next's inline scripts, which
 * makes every page dynamic.
 */
export const SECURITY_HEADERS: readonly { readonly key: string; readonly value: string }[] = [
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Content-Security-Policy", value: "frame-ancestors 'none'" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
];
