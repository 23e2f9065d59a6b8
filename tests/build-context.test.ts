import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { contextDigest } from "../components/build-context";
import { tempDir, writeFiles } from "./helpers";

describe("build-context digest (the image tag)", () => {
    let dir: string;
    const digest = (extra: Partial<Parameters<typeof contextDigest>[0]> = {}) =>
        contextDigest({ context: dir, dockerfile: path.join(dir, "Dockerfile"), ...extra });

    beforeEach(() => {
        dir = path.join(tempDir("ctx"), "app");
        writeFiles(dir, {
            Dockerfile: "FROM node:24-bookworm-slim\nCOPY . .\n",
            ".dockerignore": "# local only\nnode_modules\n.dev-data\n*.log\ndocs/*\n!docs/keep.md\n",
            "src/server.ts": "export const port = 8000;\n",
            "package.json": "{}\n",
        });
    });

    it("is stable for unchanged content", () => {
        assert.equal(digest().digest, digest().digest);
        assert.equal(digest().files, 4);
        assert.equal(digest().warning, undefined);
    });

    it("changes when a source file changes", () => {
        const before = digest().digest;
        fs.writeFileSync(path.join(dir, "src/server.ts"), "export const port = 8001;\n");
        assert.notEqual(digest().digest, before);
    });

    it("changes when a file is added, removed or renamed", () => {
        const before = digest().digest;
        fs.writeFileSync(path.join(dir, "src/new.ts"), "");
        const added = digest().digest;
        assert.notEqual(added, before);
        fs.renameSync(path.join(dir, "src/new.ts"), path.join(dir, "src/other.ts"));
        assert.notEqual(digest().digest, added);
        fs.rmSync(path.join(dir, "src/other.ts"));
        assert.equal(digest().digest, before);
    });

    it("ignores what .dockerignore excludes, with Docker's rules", () => {
        const before = digest().digest;
        writeFiles(dir, {
            "node_modules/pkg/index.js": "x",
            ".dev-data/pg/PG_VERSION": "17",
            "debug.log": "noise",
            "docs/notes.md": "excluded by docs/*",
        });
        assert.equal(digest().digest, before);
        // `*.log` matches only at the root in .dockerignore (unlike .gitignore).
        writeFiles(dir, { "src/trace.log": "inside src" });
        assert.notEqual(digest().digest, before);
    });

    it("honours ! exceptions inside an excluded folder", () => {
        const before = digest().digest;
        writeFiles(dir, { "docs/keep.md": "re-included" });
        assert.notEqual(digest().digest, before);
    });

    it("counts the Dockerfile even when .dockerignore lists it", () => {
        fs.appendFileSync(path.join(dir, ".dockerignore"), "Dockerfile\n");
        const before = digest().digest;
        fs.appendFileSync(path.join(dir, "Dockerfile"), "USER 10001:10001\n");
        assert.notEqual(digest().digest, before);
    });

    it("changes with the executable bit, which COPY preserves", () => {
        const before = digest().digest;
        fs.chmodSync(path.join(dir, "src/server.ts"), 0o755);
        assert.notEqual(digest().digest, before);
    });

    it("changes with the build settings (platform, target)", () => {
        const amd = digest({ buildSettings: { platform: "linux/amd64" } }).digest;
        assert.notEqual(digest({ buildSettings: { platform: "linux/arm64" } }).digest, amd);
        assert.notEqual(digest({ buildSettings: { platform: "linux/amd64", target: "runtime" } }).digest, amd);
        assert.equal(digest({ buildSettings: { platform: "linux/amd64", target: undefined } }).digest, amd);
    });

    it("says clearly when the context does not exist, and still gives a tag", () => {
        const missing = path.join(dir, "nope");
        const result = contextDigest({ context: missing, dockerfile: path.join(missing, "Dockerfile") });
        assert.match(result.digest, /^[0-9a-f]{64}$/);
        assert.equal(result.files, 0);
        assert.match(result.warning ?? "", /build context .*nope does not exist; Dockerfile .* does not exist/);
        assert.match(result.warning ?? "", /docker build will fail/);
    });
});
