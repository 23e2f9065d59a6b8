// Thin wrapper over the docker CLI, and the labels that mark what a run creates.
import { execa, type Options } from "execa";

/** Every container, network, volume and app image of a run carries this label (value: the run id). */
export const RUN_LABEL = "todo-chatbot-e2e.run";
/** Base-image stand-ins carry this label (value: a hash of their recipe); they are kept as a cache. */
export const STAND_IN_LABEL = "todo-chatbot-e2e.stand-in";

export interface DockerResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** The docker CLI, and buildx (standalone) for BuildKit builds as the program's docker.Image does them. */
export interface DockerTools {
  readonly cli: string;
  readonly buildx: string;
}

export class Docker {
  constructor(readonly engine: DockerTools) {}

  /** Runs `docker args...`; throws with the command and its stderr unless `reject: false`. */
  async run(args: string[], opts: { env?: Record<string, string>; input?: string; reject?: boolean; timeoutMs?: number; inherit?: boolean } = {}): Promise<DockerResult> {
    const options: Options = {
      reject: false,
      env: opts.env,
      input: opts.input,
      timeout: opts.timeoutMs,
      stdout: opts.inherit ? ["pipe", "inherit"] : "pipe",
      stderr: opts.inherit ? ["pipe", "inherit"] : "pipe",
    };
    const r = await execa(this.engine.cli, args, options);
    const result = { stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? ""), exitCode: r.exitCode ?? -1 };
    if (opts.reject !== false && result.exitCode !== 0) {
      const shown = args.map((a) => (a.length > 120 ? a.slice(0, 117) + "..." : a)).join(" ");
      throw new Error(`docker ${shown} failed (exit ${result.exitCode}${r.timedOut ? ", timed out" : ""}):\n${result.stderr.trim() || result.stdout.trim()}`);
    }
    return result;
  }

  async inspect<T = any>(kind: "image" | "container" | "volume" | "network", ref: string): Promise<T | undefined> {
    const r = await this.run([kind, "inspect", ref], { reject: false });
    return r.exitCode === 0 ? (JSON.parse(r.stdout)[0] as T) : undefined;
  }

  /**
   * `docker build` with BuildKit, whichever way this CLI offers it. Returns the seconds taken.
   * `--progress=plain` so a failing step's output lands in the log.
   */
  async build(args: string[]): Promise<number> {
    const started = process.hrtime.bigint();
    const r = await execa(this.engine.buildx, ["build", "--load", "--progress=plain", ...args], { reject: false });
    if (r.exitCode !== 0) {
      const tail = (String(r.stderr) + String(r.stdout)).trim().split("\n").slice(-60).join("\n");
      throw new Error(`docker build ${args.join(" ")} failed:\n${tail}`);
    }
    return Number(process.hrtime.bigint() - started) / 1e9;
  }
}
