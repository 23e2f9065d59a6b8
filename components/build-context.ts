// The content digest of a Docker build context, used as the image tag: the tag
// changes exactly when what `docker build` would see changes, so the pods'
// image reference changes and `pulumi up` rolls them after any source change,
// and does nothing when the source is unchanged.
import * as fs from "node:fs";
import * as path from "node:path";
import dockerignore from "@balena/dockerignore";
import { sha256 } from "./hash";

export interface ContextDigestArgs {
    /** Absolute path of the build context. */
    readonly context: string;
    /** Absolute path of the Dockerfile (always part of the digest, even when .dockerignore lists it). */
    readonly dockerfile: string;
    /** Build settings that change the image without changing a file (platform, target, build args). */
    readonly buildSettings?: Record<string, string | undefined>;
}

export interface ContextDigest {
    /** Hex SHA-256 over every file the build would send, its mode and content, plus the build settings. */
    readonly digest: string;
    /** Number of files that went into the digest. */
    readonly files: number;
    /** Set when the context or Dockerfile is missing, saying so; the digest then covers only what exists. */
    readonly warning?: string;
}

/**
 * Digest of the files `docker build` would send for `context`, honouring its
 * .dockerignore with Docker's own matching rules (@balena/dockerignore is a
 * port of moby's matcher, including `!` exceptions inside ignored folders).
 */
export function contextDigest(args: ContextDigestArgs): ContextDigest {
    const entries: string[] = [];
    const settings = Object.entries(args.buildSettings ?? {})
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1));
    entries.push(`settings\0${JSON.stringify(settings)}`);

    const problems: string[] = [];
    let files = 0;
    if (!isDirectory(args.context)) {
        problems.push(`build context ${args.context} does not exist`);
    } else {
        const ignoreFile = path.join(args.context, ".dockerignore");
        const rules = fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, "utf8") : "";
        const matcher = dockerignore().add(rules);
        // Like moby: an ignored folder is skipped unless an exception could re-include something below it.
        const hasExceptions = rules.split(/\r?\n/).some((line) => line.trim().startsWith("!"));
        const walk = (dir: string): void => {
            for (const name of fs.readdirSync(dir).sort()) {
                const abs = path.join(dir, name);
                const rel = path.relative(args.context, abs).split(path.sep).join("/");
                const stat = fs.lstatSync(abs);
                const ignored = matcher.ignores(rel);
                if (stat.isDirectory()) {
                    if (!ignored || hasExceptions) walk(abs);
                    continue;
                }
                if (ignored) continue;
                if (stat.isSymbolicLink()) {
                    entries.push(`link\0${rel}\0${fs.readlinkSync(abs)}`);
                } else if (stat.isFile()) {
                    const executable = (stat.mode & 0o111) !== 0 ? "x" : "-";
                    entries.push(`file\0${rel}\0${executable}\0${sha256(fs.readFileSync(abs))}`);
                }
                files++;
            }
        };
        walk(args.context);
    }

    if (fs.existsSync(args.dockerfile)) {
        entries.push(`dockerfile\0${sha256(fs.readFileSync(args.dockerfile))}`);
    } else {
        problems.push(`Dockerfile ${args.dockerfile} does not exist`);
    }

    return {
        digest: sha256(entries.join("\n")),
        files,
        warning: problems.length > 0 ? `${problems.join("; ")}: the image tag is derived from what exists, and docker build will fail until it is there` : undefined,
    };
}

function isDirectory(p: string): boolean {
    try {
        return fs.statSync(p).isDirectory();
    } catch {
        return false;
    }
}
