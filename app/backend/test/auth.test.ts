import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, it } from "node:test";
import { assertError, cookieHeader, request, signUp } from "./support/client.js";
import { startTestPostgres, type TestPostgres } from "./support/postgres.js";
import { freePort } from "../scripts/embedded-postgres.js";
import { spawnEntry } from "./support/processes.js";
import { startTestServer, TEST_AUTH_SECRET } from "./support/server.js";
import { onCleanup } from "./support/cleanup.js";
import { createAuth } from "../src/auth/auth.js";
import { SessionResolver } from "../src/auth/session-cache.js";
import { loadConfig } from "../src/config.js";
import { createDatabase } from "../src/db/database.js";
import { createLogger } from "../src/logger.js";

let postgres: TestPostgres;
let databaseUrl: string;
let url: string;

before(async () => {
  postgres = await startTestPostgres();
  databaseUrl = await postgres.freshDatabase();
  url = (await startTestServer(databaseUrl, { SIGN_IN_RATE_LIMIT: "3", SIGN_IN_ACCOUNT_RATE_LIMIT: "6" })).url;
});

const PASSWORD = "correct horse battery";

describe("sign-up, sign-in, session and sign-out", () => {
  it("signs up with e-mail and password and is signed in at once (cookie and bearer token)", async () => {
    const email = `new-${randomUUID()}@example.com`;
    const response = await request(url, "POST", "/api/auth/sign-up/email", {
      body: { email, password: PASSWORD, name: "New User" },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.user.email, email);
    assert.match(cookieHeader(response.headers), /better-auth\.session_token=/);
    const cookie = response.headers.getSetCookie().join("\n");
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.ok(response.headers.get("set-auth-token"));
  });

  it("refuses a second account with the same e-mail and a too-short password, in both shapes", async () => {
    const { email } = await signUp(url);
    const duplicate = await request(url, "POST", "/api/auth/sign-up/email", {
      body: { email, password: PASSWORD, name: "Again" },
    });
    assertError(duplicate, 422, "user_already_exists_use_another_email");
    assert.equal(duplicate.body.error.message, duplicate.body.message, "Better Auth's own fields stay for its client");
    const short = await request(url, "POST", "/api/auth/sign-up/email", {
      body: { email: `short-${randomUUID()}@example.com`, password: "short", name: "Short" },
    });
    assert.equal(short.status, 400);
    assert.match(short.body.error.message, /password/i);
  });

  it("signs in with the right password and rejects a wrong one with 401", async () => {
    const { email } = await signUp(url);
    const ok = await request(url, "POST", "/api/auth/sign-in/email", { body: { email, password: PASSWORD } });
    assert.equal(ok.status, 200);
    const token = ok.headers.get("set-auth-token");
    assert.ok(token);
    const wrong = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email, password: "wrong password" },
    });
    assertError(wrong, 401, "invalid_email_or_password");
  });

  it("get-session returns the user for a cookie and for a bearer token, and null without", async () => {
    const session = await signUp(url);
    const byCookie = await request(url, "GET", "/api/auth/get-session", { cookie: session.cookie });
    assert.equal(byCookie.body.user.id, session.userId);
    const byToken = await request(url, "GET", "/api/auth/get-session", { token: session.token });
    assert.equal(byToken.body.user.id, session.userId);
    const anonymous = await request(url, "GET", "/api/auth/get-session");
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.body, null);
  });

  it("sign-out ends the session: the same token and cookie are refused afterwards", async () => {
    const session = await signUp(url);
    assert.equal((await request(url, "GET", "/api/tasks", { token: session.token })).status, 200);
    const out = await request(url, "POST", "/api/auth/sign-out", { cookie: session.cookie, body: {} });
    assert.equal(out.status, 200);
    assertError(await request(url, "GET", "/api/tasks", { token: session.token }), 401, "unauthorized");
    assertError(await request(url, "GET", "/api/tasks", { cookie: session.cookie }), 401, "unauthorized");
  });
});

describe("session cache across replicas", () => {
  it("with the default SESSION_CACHE_TTL_MS, another replica accepts a signed-out token for at most that long", async () => {
    const ttlMs = loadConfig({ DATABASE_URL: databaseUrl, BETTER_AUTH_SECRET: TEST_AUTH_SECRET }).sessionCacheTtlMs;
    assert.equal(ttlMs, 5000);
    const database = createDatabase({ connectionString: databaseUrl, max: 2 });
    onCleanup(() => database.close());
    const auth = createAuth({
      db: database.db,
      secret: TEST_AUTH_SECRET,
      baseURL: undefined,
      logger: createLogger("silent"),
      logLevel: "silent",
    });
    // Replica B's cache runs on a clock the test moves, so the window is checked without sleeping.
    const clock = { t: 1_000_000, now: () => clock.t };
    const replicaB = new SessionResolver(auth, ttlMs, clock);
    const session = await signUp(url);
    const headers = { authorization: `Bearer ${session.token}` };
    assert.equal((await replicaB.resolve(headers))?.id, session.userId);

    // Replica A (the server) signs the session out; the database no longer knows it.
    assert.equal((await request(url, "POST", "/api/auth/sign-out", { token: session.token, body: {} })).status, 200);
    assert.equal(await new SessionResolver(auth, 0).resolve(headers), undefined);

    clock.t += ttlMs - 1;
    assert.equal((await replicaB.resolve(headers))?.id, session.userId, "inside the window B still trusts its cache");
    clock.t += 2;
    assert.equal(await replicaB.resolve(headers), undefined, "past the window B asks Better Auth and refuses");
  });

  it("with SESSION_CACHE_TTL_MS=0 a sign-out on one replica is refused at once on another", async () => {
    const other = await startTestServer(databaseUrl, { SESSION_CACHE_TTL_MS: "0" });
    const session = await signUp(url);
    assert.equal((await request(other.url, "GET", "/api/tasks", { token: session.token })).status, 200);
    assert.equal((await request(url, "POST", "/api/auth/sign-out", { token: session.token, body: {} })).status, 200);
    assertError(await request(other.url, "GET", "/api/tasks", { token: session.token }), 401, "unauthorized");
  });
});

describe("sign-in rate limit (per e-mail address and client address, with a looser per-e-mail cap)", () => {
  const from = (address: string) => ({ "x-forwarded-for": address });

  it("answers 429 in the shared shape after too many attempts for one address, without blocking others", async () => {
    const { email } = await signUp(url);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const response = await request(url, "POST", "/api/auth/sign-in/email", {
        body: { email, password: "nope nope" },
      });
      assert.equal(response.status, 401, `attempt ${attempt} is judged on the password`);
    }
    const limited = await request(url, "POST", "/api/auth/sign-in/email", { body: { email, password: PASSWORD } });
    assertError(limited, 429, "rate_limited", /at most 3 per minute/);
    assert.ok(limited.headers.get("retry-after"));
    // Same address in other letter case counts as the same account.
    const upper = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email: email.toUpperCase(), password: PASSWORD },
    });
    assertError(upper, 429, "rate_limited");
    const other = await signUp(url);
    const fine = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email: other.email, password: PASSWORD },
    });
    assert.equal(fine.status, 200, "another account is not affected");
    // The per-(e-mail, address) limit alone does not lock the owner out: from another address the
    // owner still signs in (only the per-e-mail cap, below, can delay them).
    const owner = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email, password: PASSWORD },
      headers: from("203.0.113.50"),
    });
    assert.equal(owner.status, 200, JSON.stringify(owner.body));
  });

  it("caps attempts per e-mail address across client addresses: a flood delays the owner's new sign-ins, not their sessions", async () => {
    const owner = await signUp(url);
    const { email } = owner;
    for (const address of ["198.51.100.1", "198.51.100.2"]) {
      for (let attempt = 1; attempt <= 3; attempt++) {
        const response = await request(url, "POST", "/api/auth/sign-in/email", {
          body: { email, password: "nope nope" },
          headers: from(address),
        });
        assert.equal(response.status, 401);
      }
    }
    // The trade-off of bounding distributed guessing: while the flood lasts, the owner's own
    // sign-in with the right password from a fresh address is refused too.
    const ownerSignIn = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email, password: PASSWORD },
      headers: from("198.51.100.3"),
    });
    assertError(ownerSignIn, 429, "rate_limited", /at most 6 per minute from all addresses/);
    const session = await request(url, "GET", "/api/auth/get-session", { token: owner.token });
    assert.equal(session.body?.user?.email, email, "an existing session is unaffected");
  });

  it("counts BOM-prefixed JSON sign-ins against the per-(e-mail, address) limit", async () => {
    const { email } = await signUp(url);
    const bom = (password: string) => ({
      rawBody: "\uFEFF" + JSON.stringify({ email, password }),
      headers: from("192.0.2.77"),
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const response = await request(url, "POST", "/api/auth/sign-in/email", bom("nope nope"));
      assert.equal(
        response.status,
        401,
        `attempt ${attempt} is judged on the password: ${JSON.stringify(response.body)}`,
      );
    }
    assertError(
      await request(url, "POST", "/api/auth/sign-in/email", bom(PASSWORD)),
      429,
      "rate_limited",
      /from your address/,
    );
    const plain = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email, password: PASSWORD },
      headers: from("192.0.2.77"),
    });
    assertError(plain, 429, "rate_limited", /from your address/);
  });

  it("counts BOM-prefixed sign-ins against the per-e-mail cap", async () => {
    const { email } = await signUp(url);
    const bom = (password: string, address: string) => ({
      rawBody: "\uFEFF" + JSON.stringify({ email, password }),
      headers: from(address),
    });
    for (const address of ["198.51.100.21", "198.51.100.22"]) {
      for (let attempt = 1; attempt <= 3; attempt++) {
        const response = await request(url, "POST", "/api/auth/sign-in/email", bom("nope nope", address));
        assert.equal(response.status, 401);
      }
    }
    const next = await request(url, "POST", "/api/auth/sign-in/email", bom(PASSWORD, "198.51.100.23"));
    assertError(next, 429, "rate_limited", /from all addresses/);
  });

  it("answers 400 in the shared shape to a sign-in without an e-mail it can read", async () => {
    for (const rawBody of ["{}", '{"email": 42, "password": "x"}', "not json", '["a@example.com"]']) {
      const response = await request(url, "POST", "/api/auth/sign-in/email", { rawBody });
      assertError(response, 400, "invalid_request", /body\.email/);
    }
    // A form keeps a byte order mark in its first field's name (as Better Auth reads it): no e-mail.
    const bomForm = await request(url, "POST", "/api/auth/sign-in/email", {
      rawBody: "\uFEFF" + new URLSearchParams({ email: "a@example.com", password: PASSWORD }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assertError(bomForm, 400, "invalid_request", /body\.email/);
  });
  it("keys form-encoded sign-ins on the e-mail address too", async () => {
    const [victim, bystander] = [await signUp(url), await signUp(url)];
    const form = (email: string, password: string) => ({
      rawBody: new URLSearchParams({ email, password }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const response = await request(url, "POST", "/api/auth/sign-in/email", form(victim.email, "nope nope"));
      assert.equal(response.status, 401, JSON.stringify(response.body));
    }
    const json = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email: victim.email, password: PASSWORD },
    });
    assertError(json, 429, "rate_limited");
    const otherAccount = await request(url, "POST", "/api/auth/sign-in/email", form(bystander.email, PASSWORD));
    assert.equal(otherAccount.status, 200, "the limit is the account's, not the caller's address");
  });
});

describe("client address for the limits (X-Forwarded-For)", () => {
  it("is the rightmost X-Forwarded-For entry, so a client-chosen first entry does not get a new bucket", async () => {
    const { email } = await signUp(url);
    for (const forged of ["6.6.6.6", "7.7.7.7", "8.8.8.8"]) {
      const response = await request(url, "POST", "/api/auth/sign-in/email", {
        body: { email, password: "nope nope" },
        headers: { "x-forwarded-for": `${forged}, 10.1.2.3` },
      });
      assert.equal(response.status, 401);
    }
    const limited = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email, password: PASSWORD },
      headers: { "x-forwarded-for": "9.9.9.9, 10.1.2.3" },
    });
    assertError(limited, 429, "rate_limited", /from your address/);
    const elsewhere = await request(url, "POST", "/api/auth/sign-in/email", {
      body: { email, password: PASSWORD },
      headers: { "x-forwarded-for": "6.6.6.6, 10.1.2.4" },
    });
    assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
  });

  it("falls back to the socket address when the rightmost entry is not an IP address", async () => {
    const { email } = await signUp(url);
    for (const header of ["10.1.2.3, not-an-ip", "10.1.2.5, [::1]:80", "10.1.2.6, 300.1.1.1"]) {
      const response = await request(url, "POST", "/api/auth/sign-in/email", {
        body: { email, password: "nope nope" },
        headers: { "x-forwarded-for": header },
      });
      assert.equal(response.status, 401);
    }
    // No header: the socket address (127.0.0.1), the bucket the three attempts above fell back to.
    const direct = await request(url, "POST", "/api/auth/sign-in/email", { body: { email, password: PASSWORD } });
    assertError(direct, 429, "rate_limited", /from your address/);
  });
});

describe("sign-up rate limit (per client address)", () => {
  it("answers 429 past SIGN_UP_RATE_LIMIT from one address, and lets other addresses sign up", async () => {
    const limited = await startTestServer(databaseUrl, { SIGN_UP_RATE_LIMIT: "2" });
    const headers = { "x-forwarded-for": "192.0.2.10" };
    await signUp(limited.url, { headers });
    await signUp(limited.url, { headers });
    const third = await request(limited.url, "POST", "/api/auth/sign-up/email", {
      body: { email: `third-${randomUUID()}@example.com`, password: PASSWORD, name: "Third" },
      headers,
    });
    assertError(third, 429, "rate_limited", /Too many sign-ups from your address: at most 2 per minute/);
    await signUp(limited.url, { headers: { "x-forwarded-for": "192.0.2.11" } });
  });
});

describe("password checks of signed-in users (change-password)", () => {
  it("are limited per user like sign-in", async () => {
    const [user, other] = [await signUp(url), await signUp(url)];
    const change = (session: typeof user, currentPassword: string) =>
      request(url, "POST", "/api/auth/change-password", {
        token: session.token,
        body: { currentPassword, newPassword: "another long password" },
      });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const response = await change(user, "wrong password");
      assert.ok(response.status === 400 || response.status === 401, `attempt ${attempt}: ${response.status}`);
    }
    assertError(await change(user, PASSWORD), 429, "rate_limited", /password attempts for this account: at most 3/);
    assert.equal((await change(other, PASSWORD)).status, 200, "another user is not affected");
  });
});

describe("user fields Better Auth stores as given (sign-up and update-user)", () => {
  const signUpWith = (fields: Record<string, unknown>) =>
    request(url, "POST", "/api/auth/sign-up/email", {
      body: { email: `fields-${randomUUID()}@example.com`, password: PASSWORD, name: "Fine", ...fields },
    });

  it("refuses a name over 100 characters, a NUL character and a non-http(s) image with 400 naming the field", async () => {
    assertError(
      await signUpWith({ name: "n".repeat(101) }),
      400,
      "invalid_request",
      /body\.name: must be at most 100 characters/,
    );
    assertError(
      await signUpWith({ name: "Nul\u0000Name" }),
      400,
      "invalid_request",
      /body\.name: must not contain NUL characters/,
    );
    assertError(
      await signUpWith({ image: "javascript:alert(1)" }),
      400,
      "invalid_request",
      /body\.image: expected an http:\/\/ or https:\/\/ URL \(got "javascript:alert\(1\)"\)/,
    );
    assert.equal((await signUpWith({ name: "n".repeat(100), image: "https://example.com/me.png" })).status, 200);
  });

  it("applies the same rules to update-user", async () => {
    const session = await signUp(url);
    const update = (body: Record<string, unknown>) =>
      request(url, "POST", "/api/auth/update-user", { token: session.token, body });
    assertError(await update({ name: "x".repeat(101) }), 400, "invalid_request", /body\.name/);
    assertError(await update({ image: "data:image/png;base64,AAAA" }), 400, "invalid_request", /body\.image/);
    assert.equal((await update({ name: "Renamed", image: "http://example.com/a.png" })).status, 200);
  });

  it("applies them to a body that starts with a UTF-8 byte order mark, as Better Auth reads it", async () => {
    const bom = (body: Record<string, unknown>) => ({ rawBody: "\uFEFF" + JSON.stringify(body) });
    const signUpBom = (fields: Record<string, unknown>) =>
      request(
        url,
        "POST",
        "/api/auth/sign-up/email",
        bom({ email: `bom-${randomUUID()}@example.com`, password: PASSWORD, name: "Fine", ...fields }),
      );
    assertError(await signUpBom({ name: "n".repeat(300) }), 400, "invalid_request", /body\.name/);
    assertError(await signUpBom({ image: "javascript:alert(1)" }), 400, "invalid_request", /body\.image/);
    const session = await signUp(url);
    const update = (body: Record<string, unknown>) =>
      request(url, "POST", "/api/auth/update-user", { token: session.token, ...bom(body) });
    assertError(await update({ name: "x".repeat(300) }), 400, "invalid_request", /body\.name/);
    assertError(await update({ image: "javascript:alert(1)" }), 400, "invalid_request", /body\.image/);
    assert.equal((await signUpBom({ name: "Bom" })).status, 200, "a valid BOM-prefixed sign-up still works");
  });
});

/** A state-changing auth request from a browser: it carries the session cookie and its page's Origin. */
async function signOutFrom(baseUrl: string, headers: Record<string, string>, signUpOrigin = baseUrl) {
  const session = await signUp(baseUrl, { headers: { origin: signUpOrigin } });
  return request(baseUrl, "POST", "/api/auth/sign-out", { cookie: session.cookie, body: {}, headers });
}

describe("public origin when BETTER_AUTH_URL is unset (derived per request)", () => {
  it("trusts the origin the frontend proxy reports in X-Forwarded-Host/Proto", async () => {
    const response = await signOutFrom(url, {
      origin: "http://192.168.49.2:30080",
      "x-forwarded-host": "192.168.49.2:30080",
      "x-forwarded-proto": "http",
    });
    assert.equal(response.status, 200);
  });

  it("works for several public origins on the same server (NodePort, Ingress over https)", async () => {
    const viaIngress = await signOutFrom(url, {
      origin: "https://todo.local",
      "x-forwarded-host": "todo.local",
      "x-forwarded-proto": "https",
    });
    assert.equal(viaIngress.status, 200);
    const viaLocalhost = await signOutFrom(url, {
      origin: "http://localhost:3000",
      "x-forwarded-host": "localhost:3000",
      "x-forwarded-proto": "http",
    });
    assert.equal(viaLocalhost.status, 200);
  });

  it("falls back to the Host header when no proxy headers are present", async () => {
    const response = await signOutFrom(url, { origin: url });
    assert.equal(response.status, 200);
  });

  it("refuses a cross-site request whose Origin differs from the derived origin", async () => {
    const response = await signOutFrom(url, {
      origin: "https://evil.example",
      "x-forwarded-host": "todo.local",
      "x-forwarded-proto": "https",
    });
    assertError(response, 403, "invalid_origin");
    const noProxy = await signOutFrom(url, { origin: "https://evil.example" });
    assertError(noProxy, 403, "invalid_origin");
  });
});

describe("public origin when BETTER_AUTH_URL is set (strict)", () => {
  let strictUrl: string;
  before(async () => {
    strictUrl = (await startTestServer(databaseUrl, { BETTER_AUTH_URL: "https://todo.example.com" })).url;
  });

  it("accepts requests from the configured origin whatever the forwarded headers say", async () => {
    const response = await signOutFrom(strictUrl, { origin: "https://todo.example.com" }, "https://todo.example.com");
    assert.equal(response.status, 200);
  });

  it("refuses other origins even when the forwarded headers match them", async () => {
    const forwarded = {
      origin: "http://192.168.49.2:30080",
      "x-forwarded-host": "192.168.49.2:30080",
      "x-forwarded-proto": "http",
    };
    assertError(await signOutFrom(strictUrl, forwarded, "https://todo.example.com"), 403, "invalid_origin");
    assertError(await signOutFrom(strictUrl, { origin: strictUrl }, "https://todo.example.com"), 403, "invalid_origin");
    const signUpFromHost = await request(strictUrl, "POST", "/api/auth/sign-up/email", {
      body: { email: `host-${randomUUID()}@example.com`, password: PASSWORD, name: "H" },
    });
    assertError(signUpFromHost, 403, "invalid_origin");
  });

  it("marks the session cookie Secure for an https origin", async () => {
    const response = await request(strictUrl, "POST", "/api/auth/sign-up/email", {
      headers: { origin: "https://todo.example.com" },
      body: { email: `secure-${randomUUID()}@example.com`, password: PASSWORD, name: "S" },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.getSetCookie().join("\n"), /__Secure-better-auth\.session_token=.*Secure/);
  });
});

describe("session cookie over plain http in production (the real server process)", () => {
  it("is not Secure when BETTER_AUTH_URL is unset, so a browser on http://<node ip>:<nodePort> keeps it", async () => {
    const port = await freePort();
    const server = spawnEntry("src/server.ts", {
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      BETTER_AUTH_SECRET: TEST_AUTH_SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
    });
    await server.waitFor(/backend listening/);
    const response = await request(`http://127.0.0.1:${port}`, "POST", "/api/auth/sign-up/email", {
      headers: {
        origin: "http://192.168.49.2:30080",
        "x-forwarded-host": "192.168.49.2:30080",
        "x-forwarded-proto": "http",
      },
      body: { email: `http-${randomUUID()}@example.com`, password: PASSWORD, name: "H" },
    });
    assert.equal(response.status, 200);
    const cookies = response.headers.getSetCookie().join("\n");
    assert.match(cookies, /(^|\n)better-auth\.session_token=/);
    assert.doesNotMatch(cookies, /__Secure-|;\s*Secure/i);
    server.child.kill("SIGTERM");
    assert.equal((await server.exited).code, 0);
  });
});
