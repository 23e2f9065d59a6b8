/**
 * Starts the real pieces the integration tests and the benchmark need: the
 * built frontend (`node .next/standalone/server.js`) and the real backend
 * (`npm run dev` in ../backend: embedded PostgreSQL, migrations, server).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const FRONTEND_DIR = resolve(import.meta.dirname, "..", "..");
export const BACKEND_DIR = resolve(FRONTEND_DIR, "..", "backend");
export const STANDALONE_SERVER = join(FRONTEND_DIR, ".next", "standalone", "server.js");

/** A port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

export interface Running {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the process printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns in its own process group, so stop() reaches npm's children too. */
function launch(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let printed = "";
  const listeners: ((text: string) => void)[] = [];
  const collect = (chunk: Buffer) => {
    printed += chunk.toString();
    for (const listener of listeners) listener(printed);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);

  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  async function stop(): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const group = -child.pid!;
    try {
      process.kill(group, "SIGTERM");
    } catch {
      return; // The group is already gone.
    }
    const gone = await Promise.race([exited.then(() => true), deadline(15_000).then(() => false)]);
    if (!gone) {
      try {
        process.kill(group, "SIGKILL");
      } catch {
        // Already gone.
      }
      await exited;
    }
  }
  return { child, output: () => printed, onOutput: (listener: (text: string) => void) => listeners.push(listener), exited, stop };
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Like sleep(), but does not keep the process alive once nothing else does. */
const deadline = (ms: number) => new Promise<void>((done) => setTimeout(done, ms).unref());

/** Polls `url` until it answers 200, the process dies, or `limitMs` passes. */
async function waitForOk(url: string, child: ChildProcess, output: () => string, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${url} answered:\n${output()}`);
    }
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${limitMs} ms:\n${output()}`);
}

/**
 * This machine's first IPv4 address that is not loopback. Browsers treat
 * http://127.0.0.1 and http://localhost as secure contexts (Secure cookies are
 * kept there), so only an address like this one shows the app as a person
 * reaching a NodePort over plain http sees it.
 */
export function networkAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((address) => address.family === "IPv4" && !address.internal);
    if (found) return found.address;
  }
  throw new Error(
    "this machine has no IPv4 address other than loopback; the browser tests need one, because on 127.0.0.1 " +
      "Chromium keeps Secure cookies over plain http and would hide exactly the bugs they look for",
  );
}

export interface FrontendOptions {
  readonly backendUrl: string;
  readonly port?: number;
  /** More environment for server.js, such as TRUST_FORWARDED_HEADERS. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Listen on every interface (as in the image) and hand out a URL on
   * networkAddress() instead of 127.0.0.1.
   * @default false
   */
  readonly onNetwork?: boolean;
}

/** Runs the production build exactly as the image does: `node server.js`. */
export async function startFrontend(options: FrontendOptions): Promise<Running> {
  if (!existsSync(STANDALONE_SERVER)) {
    throw new Error(`${STANDALONE_SERVER} is missing: run "npm run build" in app/frontend first`);
  }
  const host = options.onNetwork ? networkAddress() : "127.0.0.1";
  const port = options.port ?? (await freePort());
  const url = `http://${host}:${port}`;
  const { child, output, stop } = launch(process.execPath, [STANDALONE_SERVER], join(FRONTEND_DIR, ".next", "standalone"), {
    ...process.env,
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    HOSTNAME: options.onNetwork ? "0.0.0.0" : "127.0.0.1",
    PORT: String(port),
    BACKEND_URL: options.backendUrl,
    // Whatever the shell running the tests has set, each test says what it wants.
    TRUST_FORWARDED_HEADERS: undefined,
    ...options.env,
  });
  try {
    await waitForOk(`${url}/health`, child, output, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, process: child, output, stop };
}

const READY_LINE = /backend ready on (http:\/\/127\.0\.0\.1:\d+)/;

export interface BackendOptions {
  /** More environment for `npm run dev`, such as NODE_ENV or another LLM_PROVIDER. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long it may take to print its ready line. @default 180_000 */
  readonly limitMs?: number;
}

/**
 * Runs the real backend with its own embedded PostgreSQL in a fresh data
 * directory, on free ports; stop() ends both and removes the data.
 */
export async function startBackend(options: BackendOptions = {}): Promise<Running> {
  const limitMs = options.limitMs ?? 180_000;
  if (!existsSync(join(BACKEND_DIR, "package.json"))) {
    throw new Error(`the backend is missing at ${BACKEND_DIR}: the browser tests need the real app/backend`);
  }
  if (!existsSync(join(BACKEND_DIR, "node_modules"))) {
    throw new Error(`app/backend has no node_modules: run "npm ci --prefix app/backend" first`);
  }
  const dataParent = await mkdtemp(join(tmpdir(), "todo-frontend-e2e-"));
  // Under root, PostgreSQL runs as the postgres user, which must reach the data directory.
  await chmod(dataParent, 0o755);
  const [port, pgPort] = [await freePort(), await freePort()];
  const { child, output, onOutput, exited, stop } = launch("npm", ["run", "dev"], BACKEND_DIR, {
    ...process.env,
    PORT: String(port),
    DEV_PG_PORT: String(pgPort),
    DEV_DATA_DIR: join(dataParent, "pgdata"),
    LLM_PROVIDER: "builtin",
    LOG_LEVEL: "warn",
    ...options.env,
  });
  const stopAndClean = async () => {
    await stop();
    await rm(dataParent, { recursive: true, force: true });
  };

  const ready = new Promise<string>((done) => {
    const found = (text: string) => {
      const match = READY_LINE.exec(text);
      if (match) done(match[1]!);
    };
    found(output());
    onOutput(found);
  });
  const outcome = await Promise.race([
    ready,
    exited.then(() => new Error(`"npm run dev" in app/backend exited before it was ready:\n${output()}`)),
    deadline(limitMs).then(() => new Error(`"npm run dev" in app/backend printed no "backend ready on" line within ${limitMs} ms:\n${output()}`)),
  ]);
  if (outcome instanceof Error) {
    await stopAndClean();
    throw outcome;
  }
  return { url: outcome, process: child, output, stop: stopAndClean };
}
