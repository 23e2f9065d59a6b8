// The Docker Engine this run talks to: use a running one, or (as root on Debian)
// install Debian's docker.io and start dockerd for the length of the run.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { log } from "./log.ts";

export interface Engine {
  /** The docker CLI used for everything (its BuildKit support decides the build command). */
  readonly cli: string;
  /** How images are built: `buildx` through the plugin, `buildkit` through DOCKER_BUILDKIT=1 on a pre-23 client. */
  readonly builder: "buildx" | "buildkit";
  /** Stops dockerd when this run started it; a no-op otherwise. */
  stop(): Promise<void>;
  /** The same without waiting, for signal handlers. */
  stopSync(): void;
}

async function engineAnswers(cli: string): Promise<boolean> {
  const r = await execa(cli, ["info", "--format", "{{.ServerVersion}}"], { reject: false, timeout: 20_000 });
  return r.exitCode === 0 && r.stdout.trim() !== "";
}

async function which(cmd: string): Promise<string | undefined> {
  const r = await execa("sh", ["-c", `command -v ${cmd}`], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/**
 * docker.Image builds with BuildKit, so must we. A docker CLI from 23 on needs the buildx
 * plugin for that; Debian bookworm packages no buildx, but its docker.io client (20.10)
 * has BuildKit built in. Pick the first client on offer that can do it.
 */
async function buildKitClient(): Promise<{ cli: string; builder: Engine["builder"] } | undefined> {
  const candidates = [await which("docker"), "/usr/bin/docker"].filter(
    (c, i, all): c is string => !!c && existsSync(c) && all.indexOf(c) === i,
  );
  for (const cli of candidates) {
    if ((await execa(cli, ["buildx", "version"], { reject: false })).exitCode === 0) return { cli, builder: "buildx" };
    const v = await execa(cli, ["version", "--format", "{{.Client.Version}}"], { reject: false });
    const major = Number(v.stdout.trim().split(".")[0]);
    if (major > 0 && major < 23) return { cli, builder: "buildkit" };
  }
  return undefined;
}

function isDebian(): boolean {
  return existsSync("/etc/debian_version");
}

async function aptInstall(packages: string[]): Promise<void> {
  log(`installing Debian packages: ${packages.join(" ")}`);
  await execa("apt-get", ["update", "-qq"], { stdio: "inherit" });
  await execa("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
    stdio: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Installs Debian packages that provide the given commands, when root on Debian; else explains what is missing. */
export async function ensureCommands(needs: Record<string, string>, why: string): Promise<void> {
  const absent: string[] = [];
  for (const [cmd, pkg] of Object.entries(needs)) if (!(await which(cmd))) absent.push(pkg);
  if (absent.length === 0) return;
  if (process.getuid?.() !== 0 || !isDebian()) {
    throw new Error(`${why} needs the Debian package(s) ${absent.join(", ")}; install them (this script can only do so as root on Debian).`);
  }
  await aptInstall([...new Set(absent)]);
}

export async function ensureEngine(cacheDir: string): Promise<Engine> {
  let daemon: ChildProcess | undefined;
  const anyCli = async () => (await which("docker")) ?? "/usr/bin/docker";
  if (!(await engineAnswers(await anyCli()).catch(() => false))) {
    if (process.getuid?.() !== 0 || !isDebian()) {
      throw new Error(
        "No Docker Engine answers `docker info`, and this script can only install and start one as root on Debian. " +
          "Start a Docker Engine (or run as root on Debian) and try again.",
      );
    }
    if (!(await which("dockerd"))) await aptInstall(["docker.io", "iptables"]);
    mkdirSync(cacheDir, { recursive: true });
    const logFile = join(cacheDir, "dockerd.log");
    const fd = openSync(logFile, "a");
    log(`starting dockerd (log: ${logFile})`);
    // Own session and no inherited pipes, so the test runner's output closes when the run ends.
    daemon = spawn("dockerd", [], { detached: true, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    daemon.unref();
    const started = Date.now();
    const cli = await anyCli();
    while (!(await engineAnswers(cli).catch(() => false))) {
      if (daemon.exitCode !== null) throw new Error(`dockerd exited with code ${daemon.exitCode}; see ${logFile}`);
      if (Date.now() - started > 60_000) throw new Error(`dockerd did not answer within 60 s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const client = await buildKitClient();
  if (!client) {
    throw new Error(
      "No docker CLI here can build with BuildKit (as the program's docker.Image does): install the buildx plugin, " +
        "or Debian's docker.io (whose 20.10 client has BuildKit built in).",
    );
  }
  const version = (await execa(client.cli, ["version", "--format", "{{.Server.Version}}"])).stdout.trim();
  log(`Docker Engine ${version}; CLI ${client.cli}, builds with ${client.builder}`);
  return {
    ...client,
    async stop() {
      if (!daemon || daemon.exitCode !== null) return;
      log("stopping the dockerd this run started");
      const exited = new Promise((r) => daemon!.once("exit", r));
      daemon.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    },
    stopSync() {
      if (daemon && daemon.exitCode === null) daemon.kill("SIGTERM");
    },
  };
}
