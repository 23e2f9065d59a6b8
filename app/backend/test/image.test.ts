import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("how the server is started", () => {
  it("runs with the same V8 flags in the image (NODE_OPTIONS) as with npm start (and so the benchmark)", async () => {
    const dockerfile = await fs.readFile(path.join(root, "Dockerfile"), "utf8");
    const pkg = JSON.parse(await fs.readFile(path.join(root, "package.json"), "utf8"));
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    const nodeOptions = /^ENV NODE_OPTIONS="?([^"\n]+)"?$/m.exec(finalStage)?.[1];
    assert.ok(nodeOptions, "the final stage sets NODE_OPTIONS");
    assert.match(finalStage, /^CMD \["node","dist\/server\.js"\]$/m, "the image's command stays the shared contract");
    assert.equal(pkg.scripts.start, `node ${nodeOptions} dist/server.js`);
  });
});
