/**
 * What may leave this folder: .env files hold local secrets, and Next's
 * standalone writer copies .env and .env.production into the output that the
 * image ships, so neither the Docker build context nor git may take them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";

import dockerignore from "@balena/dockerignore";

import { FRONTEND_DIR } from "./support/processes";

const SECRETS = [".env", ".env.production", ".env.local", ".env.production.local", "app/.env"];
/** Files `npm run build` reads: excluding them would break the image, not protect it. */
const NEEDED = ["package.json", "package-lock.json", "next.config.ts", "tsconfig.json", "server.ts", "app/page.tsx", "lib/api.ts", "scripts/assemble-standalone.mjs"];

describe("files that hold secrets", () => {
  test("are left out of the Docker build context, and what the build needs is not", async () => {
    // The same matching rules as `docker build` (a port of Docker's own code).
    const rules = dockerignore().add((await readFile(join(FRONTEND_DIR, ".dockerignore"), "utf8")).split("\n"));
    for (const path of SECRETS) assert.equal(rules.ignores(path), true, `${path} would be sent to docker build`);
    for (const path of NEEDED) assert.equal(rules.ignores(path), false, `${path} would be missing from the build`);
  });

  test("are ignored by git", () => {
    // --no-index: judge by the ignore rules alone, whatever is in the index.
    const checked = spawnSync("git", ["check-ignore", "--no-index", "--verbose", ...SECRETS], { cwd: FRONTEND_DIR, encoding: "utf8" });
    assert.equal(checked.error, undefined, `could not run git: ${checked.error}`);
    const ignored = checked.stdout.trim().split("\n").filter(Boolean).map((line) => line.split("\t")[1]);
    assert.deepEqual(ignored, SECRETS, `git would not ignore every .env file:\n${checked.stdout}${checked.stderr}`);
  });
});
