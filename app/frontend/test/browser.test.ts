/**
 * A person in a real headless Chromium, against the production build and the
 * real backend with its own PostgreSQL: signs up, manages tasks by hand and
 * by chat, signs out and back in.
 *
 * The browser reaches the app as a person reaching a NodePort does: over plain
 * http on this machine's network address, with the backend in production mode.
 * On 127.0.0.1 Chromium would count the page as a secure context and keep
 * cookies marked Secure, hiding a backend that marks them so over http.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { chromium, type Browser, type Locator, type Page } from "playwright-core";

import { FakeModel, type Behaviour } from "./support/fake-model";
import { uploadThenNext } from "./support/http";
import { FRONTEND_DIR, networkAddress, startBackend, startFrontend, type Running } from "./support/processes";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = join(FRONTEND_DIR, "test-artifacts");
/** As in the image; it is also what makes Better Auth mark its cookies Secure, or not. */
const PRODUCTION = { NODE_ENV: "production" };

let backend: Running;
let frontend: Running;
let browser: Browser;

before(async () => {
  backend = await startBackend({ env: PRODUCTION });
  frontend = await startFrontend({ backendUrl: backend.url, onNetwork: true });
  await mkdir(ARTIFACTS, { recursive: true });
  // launch() gives every run a fresh temporary profile of its own (and refuses --user-data-dir).
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

after(async () => {
  await browser?.close();
  await frontend?.stop();
  await backend?.stop();
});

let accounts = 0;
function newAccount() {
  accounts += 1;
  return { name: `Test Person ${accounts}`, email: `person${accounts}.${Date.now()}@example.com`, password: "correct horse battery" };
}

async function openPage(width = 1280, height = 800, baseURL = frontend.url): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, baseURL });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

async function signUp(page: Page, account: ReturnType<typeof newAccount>): Promise<void> {
  await page.goto("/sign-up");
  await page.getByLabel("Name").fill(account.name);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  const [answer] = await Promise.all([
    page.waitForResponse((response) => new URL(response.url()).pathname === "/api/auth/sign-up/email"),
    page.getByRole("button", { name: "Create account" }).click(),
  ]);
  assert.equal(answer.status(), 200, `sign-up answered ${answer.status()}: ${await answer.text()}`);
  await assertSessionCookieKept(page, answer.headersArray());
  await page.waitForURL((url) => url.pathname === "/");
  await page.getByRole("heading", { name: "Tasks" }).waitFor();
}

/** Fails with the reason when the browser did not keep the session cookie the backend sent. */
async function assertSessionCookieKept(page: Page, headers: Promise<{ name: string; value: string }[]>): Promise<void> {
  const sent = (await headers).filter(({ name }) => name.toLowerCase() === "set-cookie").map(({ value }) => value);
  const kept = (await page.context().cookies()).map((cookie) => cookie.name);
  assert.ok(
    kept.some((name) => name.endsWith("session_token")),
    `the browser kept no session cookie from ${page.url()}; kept: [${kept.join(", ")}]; the backend sent:\n  ${sent.join("\n  ")}\n` +
      "(a cookie marked Secure, or named __Secure-*, is dropped over plain http)",
  );
}

const taskList = (page: Page) => page.locator(".task-list");
const taskItem = (page: Page, title: string) => taskList(page).locator("li.task", { hasText: title });
const doneBox = (page: Page, title: string) => page.getByRole("checkbox", { name: title });

/** Presses Tab until `target` has focus: proves it is reachable by keyboard. */
async function tabTo(page: Page, target: Locator, limit = 40): Promise<void> {
  for (let presses = 0; presses < limit; presses += 1) {
    if (await target.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press("Tab");
  }
  assert.fail(`could not reach ${target} with ${limit} presses of Tab`);
}

describe("where the browser tests run", () => {
  test("is an address where Chromium drops a cookie marked Secure that came over plain http", async () => {
    // A server of our own, so the check does not depend on the app.
    const server = http.createServer((_req, res) => {
      res.setHeader("set-cookie", ["secure_probe=1; Path=/; Secure", "plain_probe=1; Path=/"]);
      res.end("ok");
    });
    server.listen(0, "0.0.0.0");
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://${networkAddress()}:${port}/`);
      const kept = (await context.cookies()).map((cookie) => cookie.name);
      assert.deepEqual(kept, ["plain_probe"], "over http on the network address only the plain cookie is kept");
      // Loopback is why the tests do not browse 127.0.0.1: there it is kept.
      await page.goto(`http://127.0.0.1:${port}/`);
      const onLoopback = (await context.cookies(`http://127.0.0.1:${port}/`)).map((cookie) => cookie.name).sort();
      assert.deepEqual(onLoopback, ["plain_probe", "secure_probe"]);
    } finally {
      await context.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe("a person using the app in a browser", () => {
  test("signs up, adds tasks by hand and by chat, completes one, signs out and back in and finds them, with no console error", async () => {
    const page = await openPage();
    const account = newAccount();
    // What a person would see in the developer tools: a missing icon, a failed request, a script error.
    const consoleErrors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));

    await page.goto("/");
    await page.waitForURL((url) => url.pathname === "/sign-in");
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL((url) => url.pathname === "/sign-up");
    await signUp(page, account);
    await page.getByText("No tasks yet").waitFor();

    await page.getByLabel("New task").fill("Call the dentist");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await taskItem(page, "Call the dentist").waitFor();
    assert.equal(await page.getByLabel("New task").inputValue(), "", "the input is cleared once the task is added");

    await page.getByLabel("Message to the assistant").fill("add buy milk");
    await page.keyboard.press("Enter");
    const reply = page.locator(".message.assistant").last();
    await reply.locator(".bubble").waitFor();
    await reply.getByText("add_task").waitFor();
    // The chat changed tasks, so the list fetched them again without a reload.
    await taskItem(page, "buy milk").waitFor();
    assert.equal(await taskList(page).locator("li.task").count(), 2);

    await doneBox(page, "buy milk").check();
    await taskItem(page, "buy milk").and(page.locator(".done")).waitFor();
    assert.equal(await doneBox(page, "buy milk").isChecked(), true);
    assert.equal(await doneBox(page, "Call the dentist").isChecked(), false);

    await page.getByText("Completed", { exact: true }).click();
    await taskList(page).locator("li.task", { hasText: "Call the dentist" }).waitFor({ state: "detached" });
    const completedTitles = await taskList(page).locator(".task-title").allInnerTexts();
    assert.equal(completedTitles.length, 1);
    // The assistant may tidy the capitalisation of what it was asked to add.
    assert.match(completedTitles[0]!, /^buy milk$/i);
    await page.getByText("Pending", { exact: true }).click();
    await taskList(page).locator("li.task", { hasText: "buy milk" }).waitFor({ state: "detached" });
    await taskItem(page, "Call the dentist").waitFor();
    await page.getByText("All", { exact: true }).click();
    await taskItem(page, "buy milk").waitFor();

    await page.screenshot({ path: join(ARTIFACTS, "main-screen.png"), fullPage: true });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/sign-in");
    // Signed out for real: the main page sends us back.
    await page.goto("/");
    await page.waitForURL((url) => url.pathname === "/sign-in");

    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await taskItem(page, "Call the dentist").waitFor();
    await taskItem(page, "buy milk").waitFor();
    assert.equal(await doneBox(page, "buy milk").isChecked(), true);
    assert.equal(await doneBox(page, "Call the dentist").isChecked(), false);

    // The conversation is listed and its history comes back.
    const conversations = page.getByRole("navigation", { name: "Conversations" });
    await conversations.getByRole("button").first().click();
    await page.locator(".message.user", { hasText: "add buy milk" }).waitFor();
    await page.locator(".message.assistant").getByText("add_task").waitFor();
    assert.deepEqual(consoleErrors, [], "the console stays free of errors on the main flow");
    await page.context().close();
  });

  test("edits and deletes tasks, and says so when a filter shows nothing", async () => {
    const page = await openPage();
    await signUp(page, newAccount());

    await page.getByLabel("New task").fill("Water the plnts");
    await page.keyboard.press("Enter");
    await taskItem(page, "Water the plnts").waitFor();

    await page.getByRole("button", { name: "Edit Water the plnts" }).click();
    await page.getByLabel("Title").fill("Water the plants");
    await page.getByLabel("Description").fill("The fern too");
    await page.getByRole("button", { name: "Save" }).click();
    await taskItem(page, "Water the plants").getByText("The fern too").waitFor();

    await page.getByText("Completed", { exact: true }).click();
    await page.getByText("No completed tasks yet.").waitFor();
    await page.getByText("All", { exact: true }).click();

    await page.getByRole("button", { name: "Delete Water the plants" }).click();
    await page.getByText("No tasks yet").waitFor();
    await page.context().close();
  });

  test("is usable by keyboard alone", async () => {
    const page = await openPage();
    await signUp(page, newAccount());

    const input = page.getByLabel("New task");
    await tabTo(page, input);
    await page.keyboard.type("Written by keyboard");
    await page.keyboard.press("Enter");
    await taskItem(page, "Written by keyboard").waitFor();

    const box = doneBox(page, "Written by keyboard");
    await tabTo(page, box);
    await page.keyboard.press("Space");
    await taskItem(page, "Written by keyboard").and(page.locator(".done")).waitFor();

    await tabTo(page, page.getByRole("button", { name: "Edit Written by keyboard" }));
    await page.keyboard.press("Enter");
    await page.getByLabel("Title").waitFor();
    assert.equal(await page.getByLabel("Title").evaluate((field) => field === document.activeElement), true);
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.type("Edited by keyboard");
    await page.keyboard.press("Enter");
    const editButton = page.getByRole("button", { name: "Edit Edited by keyboard" });
    await editButton.waitFor();
    // Focus comes back to the task, not to the top of the page.
    await page.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "Edit Edited by keyboard");

    await tabTo(page, page.getByRole("button", { name: "Delete Edited by keyboard" }));
    await page.keyboard.press("Enter");
    await taskItem(page, "Edited by keyboard").waitFor({ state: "detached" });
    // The deleted row took focus with it; the add field gets it, ready for the next task.
    await page.waitForFunction(() => document.activeElement?.id === "new-task-title");

    await tabTo(page, page.getByLabel("Message to the assistant"));
    await page.keyboard.type("add feed the cat");
    await page.keyboard.press("Enter");
    await taskItem(page, "feed the cat").waitFor();
    await page.context().close();
  });

  test("shows failures in plain words and keeps what was typed", async () => {
    const page = await openPage();
    const account = newAccount();
    await signUp(page, account);

    // The network drops the request: nothing typed may be lost.
    await page.route("**/api/chat", (route) => route.abort("connectionreset"));
    await page.getByLabel("Message to the assistant").fill("add call mum");
    await page.keyboard.press("Enter");
    await page.locator("#chat-error").filter({ hasText: "Could not reach the site" }).waitFor();
    assert.equal(await page.getByLabel("Message to the assistant").inputValue(), "add call mum");
    await page.unroute("**/api/chat");

    await page.route("**/api/tasks", (route) =>
      route.request().method() === "POST" ? route.abort("connectionreset") : route.fallback(),
    );
    await page.getByLabel("New task").fill("Pay the rent");
    await page.keyboard.press("Enter");
    await page.locator("#add-task-error").filter({ hasText: "Could not reach the site" }).waitFor();
    assert.equal(await page.getByLabel("New task").inputValue(), "Pay the rent");
    await page.unroute("**/api/tasks");
    // With the network back, the same text goes through.
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await taskItem(page, "Pay the rent").waitFor();

    // A real refusal from the backend, in its own words.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const refusal = page.locator("#auth-error");
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /invalid email or password/i);
    assert.equal(await page.getByLabel("Email").inputValue(), account.email);
    await page.context().close();
  });

  test("pages through more tasks than the backend returns at once", async () => {
    const page = await openPage();
    await signUp(page, newAccount());
    await page.getByText("No tasks yet").waitFor();
    // Through the same API the page uses; by hand it would take a while.
    await page.evaluate(async () => {
      for (let n = 1; n <= 105; n += 1) {
        const answer = await fetch("/api/tasks", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ title: `Numbered task ${String(n).padStart(3, "0")}` }),
        });
        if (answer.status !== 201) throw new Error(`task ${n}: HTTP ${answer.status} ${await answer.text()}`);
      }
    });
    await page.reload();

    await page.getByText("105 tasks").waitFor();
    await taskItem(page, "Numbered task 100").waitFor();
    assert.equal(await taskList(page).locator("li.task").count(), 100);
    assert.equal(await taskItem(page, "Numbered task 101").count(), 0);
    await page.getByText("Showing 100 of 105.").waitFor();

    await page.getByRole("button", { name: "Show 5 more" }).click();
    await taskItem(page, "Numbered task 105").waitFor();
    assert.equal(await taskList(page).locator("li.task").count(), 105);
    assert.equal(await page.getByRole("button", { name: /^Show \d+ more$/ }).count(), 0);
    // The keyboard carries on where the new tasks begin.
    await page.waitForFunction(() => document.activeElement?.closest("li.task")?.textContent?.includes("Numbered task 101") === true);

    // A change refreshes the list without losing the second page, and a new task shows up at the end.
    await doneBox(page, "Numbered task 103").check();
    await taskItem(page, "Numbered task 103").and(page.locator(".done")).waitFor();
    assert.equal(await taskList(page).locator("li.task").count(), 105);
    await page.getByLabel("New task").fill("Task number 106");
    await page.keyboard.press("Enter");
    await taskItem(page, "Task number 106").waitFor();
    await page.getByText("106 tasks").waitFor();
    assert.equal(await taskList(page).locator("li.task").count(), 106);
    await page.context().close();
  });

  test("fits a phone-width screen", async () => {
    const page = await openPage(390, 844);
    await signUp(page, newAccount());
    await page.getByLabel("New task").fill("A task with a rather long title that has to wrap on a narrow phone screen");
    await page.keyboard.press("Enter");
    await taskItem(page, "rather long title").waitFor();

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    for (const control of [page.getByLabel("New task"), page.getByLabel("Message to the assistant"), page.getByRole("button", { name: "Sign out" })]) {
      const box = await control.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${control} is not fully on screen: ${JSON.stringify(box)}`);
    }
    await page.screenshot({ path: join(ARTIFACTS, "main-screen-phone.png"), fullPage: true });
    await page.context().close();
  });
});

describe("when the assistant's model fails", () => {
  // A backend of its own, whose model (an OpenAI-compatible stand-in) fails on demand.
  const model = new FakeModel();
  let modelBackend: Running;
  let modelFrontend: Running;

  before(async () => {
    await model.start();
    modelBackend = await startBackend({
      env: { ...PRODUCTION, LLM_PROVIDER: "openai", OPENAI_BASE_URL: model.baseUrl, LLM_TIMEOUT_MS: "1000" },
    });
    modelFrontend = await startFrontend({ backendUrl: modelBackend.url, onNetwork: true });
  });

  after(async () => {
    await modelFrontend?.stop();
    await modelBackend?.stop();
    await model.stop();
  });

  const chatError = (page: Page) => page.locator("#chat-error");
  const conversationButtons = (page: Page) => page.getByRole("navigation", { name: "Conversations" }).locator(".conversation-open");

  async function conversationsOnTheBackend(page: Page): Promise<number> {
    return page.evaluate(async () => {
      const answer = (await (await fetch("/api/conversations")).json()) as unknown[] | { conversations: unknown[] };
      return (Array.isArray(answer) ? answer : answer.conversations).length;
    });
  }

  /** A new person's first message to an assistant whose model behaves as given. */
  async function firstMessage(behaviour: Behaviour, text: string): Promise<Page> {
    const page = await openPage(1280, 800, modelFrontend.url);
    await signUp(page, newAccount());
    model.behaviour = behaviour;
    await page.getByLabel("Message to the assistant").fill(text);
    await page.keyboard.press("Enter");
    return page;
  }

  test("says what the backend said, shows what it stored and did, and a retry continues the same conversation", async () => {
    const page = await firstMessage("tool-then-fail", "add water the garden");
    // The backend's own words, which tell that the message was kept.
    await chatError(page).getByText("Your message was saved").waitFor();
    assert.doesNotMatch(await chatError(page).innerText(), /Something went wrong on the server/);
    assert.equal(await page.getByLabel("Message to the assistant").inputValue(), "add water the garden");
    // The assistant had added the task before the model failed: the list shows it, and so does the error.
    await taskItem(page, "water the garden").waitFor();
    await chatError(page).getByText("add_task").waitFor();
    // The conversation the backend created is listed, open, and shows what it stored.
    await page.getByRole("navigation", { name: "Conversations" }).locator('[aria-current="true"]').waitFor();
    assert.equal(await conversationButtons(page).count(), 1);
    await page.locator(".message.user", { hasText: "add water the garden" }).waitFor();

    model.behaviour = "words";
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.locator(".message.assistant", { hasText: "All done." }).waitFor();
    await chatError(page).waitFor({ state: "detached" });
    assert.equal(await conversationButtons(page).count(), 1, "the retry went into the same conversation");
    assert.equal(await conversationsOnTheBackend(page), 1);
    await page.context().close();
  });

  test("a model that does not answer in time: the backend's words, and the new conversation is listed", async () => {
    const page = await firstMessage("hang", "what is on my list?");
    await chatError(page).getByText(/did not answer in time.*Your message was saved/).waitFor();
    assert.equal(await page.getByLabel("Message to the assistant").inputValue(), "what is on my list?");
    await page.getByRole("navigation", { name: "Conversations" }).locator('[aria-current="true"]').waitFor();
    assert.equal(await conversationButtons(page).count(), 1);
    assert.equal(await conversationsOnTheBackend(page), 1);
    await page.context().close();
  });
});

describe("the real backend's refusals, through the frontend", () => {
  test("a body over the backend's limit gets its 413 while still uploading, and the connection carries the next request", { timeout: 60_000 }, async () => {
    const attempts = await uploadThenNext(frontend.url, "/api/auth/sign-in/email", {
      size: 3 * 1024 * 1024,
      headers: { origin: frontend.url },
      next: { path: "/api/auth/get-session" },
    });
    for (const [index, { refused, next }] of attempts.entries()) {
      assert.equal(refused.status, 413, `attempt ${index + 1}: ${refused.body}`);
      assert.equal(JSON.parse(refused.body.toString()).error.code, "payload_too_large");
      assert.equal(next.status, 200, `attempt ${index + 1}: the request after the 413`);
    }
  });

  test("too many sign-in attempts get the backend's 429 with its Retry-After", async () => {
    // The same e-mail every time: the limit counts per e-mail and address.
    const email = `nobody.${Date.now()}@example.com`;
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let tries = 0; tries < 20 && !limited; tries += 1) {
      const response = await fetch(`${frontend.url}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: frontend.url },
        body: JSON.stringify({ email, password: "not the password" }),
      });
      statuses.push(response.status);
      if (response.status === 429) limited = response;
      else await response.arrayBuffer();
    }
    assert.ok(limited, `no 429 after ${statuses.length} tries: ${statuses.join(", ")}`);
    assert.match(limited.headers.get("retry-after") ?? "", /^\d+$/);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, "rate_limited");
  });
});
