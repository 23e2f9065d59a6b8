// Headless Debian Chromium driven by playwright-core (playwright's own browser download cannot
// run here). The flags keep Chromium from calling out to Google's services on a closed network.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { ensureCommands } from "./system.ts";

export const CHROMIUM = "/usr/bin/chromium";

export async function launchBrowser(): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  await ensureCommands({ [CHROMIUM]: "chromium" }, "The browser part of the scenario");
  const profile = mkdtempSync(join(tmpdir(), "todo-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  return {
    browser: context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type { Browser };
