import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./cleanup.js";

export const BACKEND_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<RunResult>;
  /** Resolves with the output once a line matches, rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<string>;
}

/** Runs a TypeScript entry point of this package as its own process, the way `npm run` would (via tsx). */
export function spawnEntry(entry: string, env: Record<string, string>): Spawned {
  return spawnCommand(process.execPath, ["--import", "tsx", entry], env);
}

export function spawnCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { detached?: boolean } = {},
): Spawned {
  const child = spawn(command, args, {
    cwd: BACKEND_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached,
  });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (chunk) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
    for (const listener of listeners) listener();
  });
  const exited = new Promise<RunResult>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return {
    child,
    exited,
    output: () => stdout + stderr,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout + stderr)) {
            listeners.delete(check);
            resolve(stdout + stderr);
          }
        };
        listeners.add(check);
        check();
        void exited.then((result) => {
          if (!pattern.test(result.stdout + result.stderr)) {
            reject(
              new Error(`exited with ${result.code} before printing ${pattern}:\n${result.stdout}\n${result.stderr}`),
            );
          }
        });
      });
    },
  };
}
