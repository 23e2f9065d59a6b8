// Everything a run creates carries RUN_LABEL=<run id>; it is removed by that label at the end,
// after a failure, or on a signal. The run id starts with the harness's pid, so leftovers of a
// run whose process is gone (killed with SIGKILL, machine reset) can be told apart from a run
// still going, and removed at the next start. Nothing without the label is ever touched.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Docker, RUN_LABEL } from "./docker.ts";
import { log } from "./log.ts";

export function newRunId(): string {
  return `${process.pid}-${randomBytes(2).toString("hex")}`;
}

const KINDS = [
  { list: ["ps", "-a", "--format", "{{.ID}}"], remove: ["rm", "-f", "-v"] },
  { list: ["network", "ls", "--format", "{{.ID}}"], remove: ["network", "rm"] },
  { list: ["volume", "ls", "--format", "{{.Name}}"], remove: ["volume", "rm", "-f"] },
  { list: ["image", "ls", "--format", "{{.ID}}"], remove: ["image", "rm", "-f"] },
] as const;

/** Writes the logs of every container of the run to dir/<container>.log (kept for after-the-fact reading). */
export async function saveLogs(docker: Docker, runId: string, dir: string): Promise<void> {
  const names = (await docker.run(["ps", "-a", "--format", "{{.Names}}", "--filter", `label=${RUN_LABEL}=${runId}`], { reject: false })).stdout.split("\n").filter(Boolean);
  mkdirSync(dir, { recursive: true });
  for (const name of names) {
    const r = await docker.run(["logs", "--timestamps", name], { reject: false });
    writeFileSync(join(dir, `${name}.log`), r.stdout + r.stderr);
  }
}

/** Removes every container, network, volume and image labelled with this run id. */
export async function removeRun(docker: Docker, runId: string): Promise<void> {
  for (const kind of KINDS) {
    const ids = (await docker.run([...kind.list, "--filter", `label=${RUN_LABEL}=${runId}`], { reject: false })).stdout.split("\n").filter(Boolean);
    if (ids.length > 0) await docker.run([...kind.remove, ...new Set(ids)], { reject: false });
  }
}

/** The same, synchronously, for signal handlers (no event loop to wait on). */
export function removeRunSync(cli: string, runId: string): void {
  for (const kind of KINDS) {
    try {
      const ids = execFileSync(cli, [...kind.list, "--filter", `label=${RUN_LABEL}=${runId}`], { encoding: "utf8" }).split("\n").filter(Boolean);
      if (ids.length > 0) execFileSync(cli, [...kind.remove, ...new Set(ids)], { stdio: "ignore" });
    } catch {
      // Best effort: the rest still goes.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: any) {
    return e.code === "EPERM";
  }
}

/** Removes what earlier runs left behind when their process died before cleaning up. */
export async function removeStaleRuns(docker: Docker): Promise<void> {
  const runs = new Set<string>();
  for (const kind of KINDS) {
    const ids = (await docker.run([...kind.list, "--filter", `label=${RUN_LABEL}`], { reject: false })).stdout.split("\n").filter(Boolean);
    if (ids.length === 0) continue;
    // `inspect` reads labels the same way for every kind (image listings have no .Label).
    const inspectKind = kind.list[0] === "ps" ? "container" : kind.list[0];
    const r = await docker.run([inspectKind, "inspect", "--format", `{{index ${inspectKind === "image" || inspectKind === "container" ? ".Config.Labels" : ".Labels"} "${RUN_LABEL}"}}`, ...new Set(ids)], { reject: false });
    for (const id of r.stdout.split("\n").filter(Boolean)) runs.add(id);
  }
  for (const id of runs) {
    const pid = Number(id.split("-")[0]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) {
      log(`removing leftovers of an earlier run (${id}) whose process is gone`);
      await removeRun(docker, id);
    }
  }
}

/**
 * On SIGINT/SIGTERM/SIGHUP: remove the run's resources, run `also` (stop a dockerd this run
 * started), and exit with the signal's conventional status.
 */
export function cleanUpOnSignals(cli: string, runId: string, also: () => void): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n[e2e] ${signal}: removing this run's containers, networks, volumes and images\n`);
    removeRunSync(cli, runId);
    also();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[signal]);
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, handler);
  return () => signals.forEach((s) => process.off(s, handler));
}
