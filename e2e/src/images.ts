// The app images, built exactly as the program's docker.Image resources declare them for the
// stack (context, Dockerfile, platform, target, build args, image name), and measured: a cold
// build (no layer cache), a warm one after a one-line source change, and the app's layers' size.
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { execa } from "execa";
import { Docker, RUN_LABEL } from "./docker.ts";
import { log } from "./log.ts";

import type { ImageBuild } from "../../render/index.ts";

export type { ImageBuild };

export interface BuildFigures {
  app: string;
  imageName: string;
  coldSeconds: number;
  warmSeconds: number;
  /** The file whose one added line made the warm build. */
  changedFile: string;
  baseImage: string;
  /** Bytes of the image above its base (the final stage's FROM). */
  appLayerBytes: number;
}

/** The base images a Dockerfile builds FROM (stage names and ARG-only references left out). */
export function baseImagesOf(dockerfile: string, args: Record<string, string> = {}): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of readFileSync(dockerfile, "utf8").split("\n")) {
    const m = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!m) continue;
    const ref = m[1].replace(/\$\{?(\w+)\}?/g, (_, k: string) => args[k] ?? "");
    if (!stages.has(ref.toLowerCase()) && ref !== "scratch" && !bases.includes(ref)) bases.push(ref);
    if (m[2]) stages.add(m[2].toLowerCase());
  }
  return bases;
}

/** The base of the final stage: the image the app's layers sit on. */
function finalBase(dockerfile: string, args: Record<string, string>): string {
  const froms = readFileSync(dockerfile, "utf8").split("\n").map((l) => /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)/i.exec(l)?.[1]).filter((x): x is string => !!x);
  return froms[froms.length - 1].replace(/\$\{?(\w+)\}?/g, (_, k: string) => args[k] ?? "");
}

function buildArgs(b: ImageBuild, tag: string, runId: string, context: string, dockerfile: string, extra: string[] = []): string[] {
  return [
    "-f", dockerfile, "-t", tag, "--label", `${RUN_LABEL}=${runId}`,
    ...(b.platform ? ["--platform", b.platform] : []),
    ...(b.target ? ["--target", b.target] : []),
    ...Object.entries(b.args).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
    ...extra, context,
  ];
}

/** The app-layer size: image size minus its base's, after checking the base's layers are its first ones. */
async function appLayerBytes(docker: Docker, image: string, base: string): Promise<number> {
  const [img, baseImg] = [await docker.inspect("image", image), await docker.inspect("image", base)];
  const layers: string[] = img.RootFS.Layers;
  const baseLayers: string[] = baseImg.RootFS.Layers;
  if (!baseLayers.every((l, i) => layers[i] === l)) throw new Error(`${image} does not sit on ${base}'s layers; cannot tell its app layers apart`);
  return img.Size - baseImg.Size;
}

/** A source file to touch for the warm build: tracked, TypeScript, under src/ or app/, not a test. */
async function sourceFileToChange(context: string): Promise<string> {
  const files = (await execa("git", ["ls-files", "--", "."], { cwd: context })).stdout.split("\n");
  const candidates = files.filter((f) => /^(src|app)\/.*\.tsx?$/.test(f) && !/(\.test\.|__tests__|\/test\/)/.test(f)).sort();
  if (candidates.length === 0) throw new Error(`no tracked .ts/.tsx file under src/ or app/ in ${context} to change for the warm build`);
  return candidates[0];
}

/** Copies the build context as git sees it (tracked and untracked-but-not-ignored files). */
async function copyContext(context: string, to: string): Promise<void> {
  const files = (await execa("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."], { cwd: context })).stdout.split("\0").filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(context, f), join(to, f), { verbatimSymlinks: true });
  }
}

/**
 * Builds one image cold (no layer cache) under its rendered name, then warm from a copy of the
 * context with one added line in a source file (under a throw-away tag).
 */
export async function buildImage(docker: Docker, b: ImageBuild, runId: string): Promise<BuildFigures> {
  log(`building ${b.imageName} from ${b.context} (cold)`);
  const coldSeconds = await docker.build(buildArgs(b, b.imageName, runId, b.context, b.dockerfile, ["--no-cache"]));
  log(`built ${b.imageName} cold in ${coldSeconds.toFixed(1)} s`);

  const changedFile = await sourceFileToChange(b.context);
  const copy = mkdtempSync(join(tmpdir(), `todo-e2e-${b.app}-`));
  let warmSeconds: number;
  try {
    await copyContext(b.context, copy);
    appendFileSync(join(copy, changedFile), `\n// e2e warm build ${runId}\n`);
    const dockerfileInCopy = b.dockerfile.startsWith(b.context + "/") ? join(copy, relative(b.context, b.dockerfile)) : b.dockerfile;
    const warmTag = `${b.imageName.split(":")[0]}:e2e-warm-${runId}`;
    warmSeconds = await docker.build(buildArgs(b, warmTag, runId, copy, dockerfileInCopy));
    log(`built ${warmTag} warm (one line added to ${changedFile}) in ${warmSeconds.toFixed(1)} s`);
    await docker.run(["image", "rm", warmTag], { reject: false });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  const baseImage = finalBase(b.dockerfile, b.args);
  return { app: b.app, imageName: b.imageName, coldSeconds, warmSeconds, changedFile, baseImage, appLayerBytes: await appLayerBytes(docker, b.imageName, baseImage) };
}
