import assert from "node:assert/strict";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { freePort } from "../scripts/embedded-postgres.js";
import { request, signUp } from "./support/client.js";
import { onCleanup } from "./support/cleanup.js";
import { spawnCommand } from "./support/processes.js";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function startDev(dataDir: string, port: number, pgPort: number) {
  const dev = spawnCommand("npm", ["run", "dev"], {
    DEV_DATA_DIR: dataDir,
    DEV_PG_PORT: String(pgPort),
    PORT: String(port),
    LOG_LEVEL: "warn",
  });
  await dev.waitFor(new RegExp(`backend ready on http://127\\.0\\.0\\.1:${port}`));
  return dev;
}

describe("npm run dev", () => {
  it("starts PostgreSQL, migrates, serves the API, and stops both on SIGTERM; data survives a restart", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "todo-backend-dev-"));
    onCleanup(() => fs.rm(dataDir, { recursive: true, force: true }));
    const [port, pgPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;

    const first = await startDev(dataDir, port, pgPort);
    assert.deepEqual((await request(url, "GET", "/ready")).body.checks, { database: "ok", migrations: "ok" });
    const user = await signUp(url);
    const chat = await request(url, "POST", "/api/chat", {
      token: user.token,
      body: { message: "add try the dev server" },
    });
    assert.match(chat.body.reply, /Added "Try the dev server"/, "the builtin agent is the default");
    const secrets = JSON.parse(await fs.readFile(path.join(dataDir, "dev-secrets.json"), "utf8"));
    assert.ok(secrets.postgresPassword.length >= 20 && secrets.betterAuthSecret.length >= 32, "secrets are generated");

    first.child.kill("SIGTERM");
    const stopped = await first.exited;
    assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
    assert.match(stopped.stdout, /backend stopped/);
    assert.equal(await portOpen(port), false, "the API port is closed");
    assert.equal(await portOpen(pgPort), false, "PostgreSQL is stopped");

    const second = await startDev(dataDir, port, pgPort);
    const tasks = await request(url, "GET", "/api/tasks", { token: user.token });
    assert.equal(tasks.status, 200, "the session from before the restart is still valid");
    assert.deepEqual(
      tasks.body.tasks.map((t: any) => t.title),
      ["Try the dev server"],
    );
    second.child.kill("SIGINT");
    assert.equal((await second.exited).code, 0);
    assert.equal(await portOpen(pgPort), false);
  });
});
