// Commands the run needs from the machine: installed from Debian when root on Debian, else named.
import { existsSync } from "node:fs";
import { execa } from "execa";
import { log } from "./log.ts";

export async function which(cmd: string): Promise<string | undefined> {
  const r = await execa("sh", ["-c", `command -v ${cmd}`], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** Installs Debian packages that provide the given commands, when root on Debian; else explains what is missing. */
export async function ensureCommands(needs: Record<string, string>, why: string): Promise<void> {
  const absent: string[] = [];
  for (const [cmd, pkg] of Object.entries(needs)) if (!(await which(cmd))) absent.push(pkg);
  if (absent.length === 0) return;
  if (process.getuid?.() !== 0 || !existsSync("/etc/debian_version")) {
    throw new Error(`${why} needs the Debian package(s) ${absent.join(", ")}; install them (this script can only do so as root on Debian).`);
  }
  log(`installing Debian packages: ${absent.join(" ")}`);
  await execa("apt-get", ["update", "-qq"], { stdio: "inherit" });
  await execa("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...new Set(absent)], { stdio: "inherit", env: { DEBIAN_FRONTEND: "noninteractive" } });
}
