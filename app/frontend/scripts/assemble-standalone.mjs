// `next build` leaves the static assets (and public/) outside the standalone
// folder, by design, so that a CDN can serve them. We serve them from the same
// server, so copy them in: .next/standalone is then the complete app that
// `node server.js` runs, here and in the image.
import { cpSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const standalone = join(root, ".next", "standalone");
if (!existsSync(join(standalone, "server.js"))) {
  throw new Error(`${standalone}/server.js is missing: run "next build" with output: "standalone" first`);
}
cpSync(join(root, ".next", "static"), join(standalone, ".next", "static"), { recursive: true });
if (existsSync(join(root, "public"))) cpSync(join(root, "public"), join(standalone, "public"), { recursive: true });
