import { after } from "node:test";

const cleanups: (() => Promise<unknown> | unknown)[] = [];

// Registered when a test file first imports this module, so it belongs to the file's
// root and runs once all its tests are done (an `after` inside a `before` hook would
// run as soon as that hook ends).
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Runs `fn` after the test file, last registered first (servers before their database). */
export function onCleanup(fn: () => Promise<unknown> | unknown): void {
  cleanups.push(fn);
}
