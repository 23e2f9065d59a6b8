// Liveness only: answers without touching the backend, so a backend outage
// never restarts the frontend pods.
export const dynamic = "force-dynamic";

export function GET(): Response {
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}
