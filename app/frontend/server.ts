/**
 * The frontend's HTTP server, in the image `node server.js` (bundled by
 * scripts/assemble-standalone.mjs in place of the server Next generates).
 * `/api/*` goes to the backend through lib/backend-proxy.ts before Next's
 * request pipeline, which would otherwise cost several times the backend's own
 * work on every call; every other path is Next's (pages, assets, /health).
 *
 * `tsx server.ts --dev` (npm run dev) serves the same way with Next's
 * development server.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";

import { createBackendProxy, isApiPath, parseTarget } from "./lib/backend-proxy";

/** What the environment asks for, or the reason it cannot be served. */
interface Settings {
  readonly port: number;
  readonly hostname: string;
  readonly keepAliveTimeoutMs: number | undefined;
}

function readSettings(env: NodeJS.ProcessEnv): Settings | string {
  const port = env.PORT === undefined || env.PORT.trim() === "" ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `PORT is "${env.PORT}"; expected a whole number from 1 to 65535 (default 3000)`;
  }
  const rawTimeout = env.KEEP_ALIVE_TIMEOUT?.trim();
  const keepAliveTimeoutMs = rawTimeout === undefined || rawTimeout === "" ? undefined : Number(rawTimeout);
  if (keepAliveTimeoutMs !== undefined && !(Number.isInteger(keepAliveTimeoutMs) && keepAliveTimeoutMs >= 0)) {
    return `KEEP_ALIVE_TIMEOUT is "${env.KEEP_ALIVE_TIMEOUT}"; expected milliseconds as a whole number >= 0, or unset for Node's default`;
  }
  return { port, hostname: env.HOSTNAME?.trim() || "0.0.0.0", keepAliveTimeoutMs };
}

/** In the standalone output Next reads its build-time configuration from here, not from next.config.ts. */
function standaloneConfig(dir: string) {
  const file = join(dir, ".next", "required-server-files.json");
  const { config } = JSON.parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  // Next's own standalone server sets this; without it Next warns that `next start` is unsupported.
  process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(config);
  return config;
}

async function main(): Promise<void> {
  const dev = process.argv.includes("--dev");
  const settings = readSettings(process.env);
  if (typeof settings === "string") {
    console.error(`[frontend] cannot start: ${settings}`);
    process.exit(2);
  }
  const dir = __dirname;
  // Before Next (and React, which picks its build by it) is loaded, as Next's own standalone server does.
  if (!dev) Object.assign(process.env, { NODE_ENV: "production" });
  const { default: next } = await import("next");

  const app = next({ dev, dir, hostname: settings.hostname, port: settings.port, conf: dev ? undefined : standaloneConfig(dir) });
  const nextHandler = app.getRequestHandler();
  // Read once: one image serves every environment, and a pod's environment does not change under it.
  const proxy = createBackendProxy({ backendUrl: process.env.BACKEND_URL, trustForwardedHeaders: process.env.TRUST_FORWARDED_HEADERS });

  const server = http.createServer((req, res) => {
    let target: URL;
    try {
      target = parseTarget(req.url);
    } catch {
      // Not a path at all (such as an absolute-form target naming another host): nothing here serves it.
      res.writeHead(400, { "content-type": "text/plain" }).end("Bad request target\n");
      return;
    }
    if (isApiPath(target.pathname)) {
      proxy.handle(req, res, target);
      return;
    }
    nextHandler(req, res).catch((error: unknown) => {
      console.error("[frontend] Next could not answer", req.method, req.url, error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end("Internal Server Error\n");
      else res.destroy();
    });
  });
  if (settings.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = settings.keepAliveTimeoutMs;
  await app.prepare();
  // Only the development server upgrades connections (hot reloading).
  if (dev) server.on("upgrade", app.getUpgradeHandler());
  await new Promise<void>((listening, failed) => {
    server.once("error", failed);
    server.listen(settings.port, settings.hostname, () => listening());
  });
  console.log(`[frontend] listening on http://${settings.hostname}:${settings.port} (${dev ? "development" : "production"})`);

  // On SIGTERM (a rollout, a scale-down) stop taking connections, let the
  // requests in flight finish, then leave: nothing a user sent is cut off
  // while the kubelet's grace period lasts.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`[frontend] ${signal}: finishing the requests in flight`);
    server.close(() => {
      void Promise.allSettled([proxy.close(), app.close()]).then(() => process.exit(0));
    });
    server.closeIdleConnections();
    // Long streams (a chat answer) get a bounded time; then go anyway.
    setTimeout(() => process.exit(0), 20_000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((error: unknown) => {
  console.error("[frontend] cannot start:", error);
  process.exit(1);
});
