// Makes .next/standalone the complete app that `node server.js` runs, here
// and in the image:
// - `next build` leaves the static assets (and public/) outside the standalone
//   folder, by design, so that a CDN can serve them. We serve them from the
//   same server, so copy them in.
// - Next's generated server.js hands every request to Next. Ours (server.ts)
//   sends /api/* to the backend first; it is bundled with its dependencies
//   (undici), which Next's file tracing does not see, and takes Next from the
//   standalone node_modules.
import { cpSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const standalone = join(root, ".next", "standalone");
if (!existsSync(join(standalone, "server.js"))) {
  throw new Error(`${standalone}/server.js is missing: run "next build" with output: "standalone" first`);
}
cpSync(join(root, ".next", "static"), join(standalone, ".next", "static"), { recursive: true });
if (existsSync(join(root, "public"))) cpSync(join(root, "public"), join(standalone, "public"), { recursive: true });

await build({
  entryPoints: [join(root, "server.ts")],
  outfile: join(standalone, "server.js"),
  bundle: true,
  platform: "node",
  // The oldest Node the app supports (package.json engines); the image runs 24.
  target: "node20",
  format: "cjs",
  external: ["next", "next/*"],
  legalComments: "none",
  logLevel: "warning",
});
