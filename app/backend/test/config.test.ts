import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig, loadMigrateConfig } from "../src/config.js";

const VALID = {
  DATABASE_URL: "postgres://todo:pw@todo-postgres:5432/todo_db",
  BETTER_AUTH_SECRET: "s".repeat(32),
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail("expected a ConfigError");
}

describe("configuration", () => {
  it("applies the documented defaults", () => {
    const config = loadConfig(VALID);
    assert.equal(config.port, 8000);
    assert.equal(config.logLevel, "info");
    assert.equal(config.llm.provider, "builtin");
    assert.equal(config.betterAuthUrl, undefined);
    assert.equal(config.rateLimits.signInPerMinute, 5);
    assert.equal(config.rateLimits.signInPerAccountPerMinute, 30);
    assert.equal(config.rateLimits.signUpPerMinute, 10);
    assert.equal(config.rateLimits.chatPerMinute, 20);
    assert.equal(config.shutdown.delayMs, 5000);
    assert.equal(config.databaseStatementTimeoutMs, 15000);
  });

  it("validates DATABASE_STATEMENT_TIMEOUT_MS", () => {
    assert.equal(loadConfig({ ...VALID, DATABASE_STATEMENT_TIMEOUT_MS: "2500" }).databaseStatementTimeoutMs, 2500);
    assert.ok(
      problems({ ...VALID, DATABASE_STATEMENT_TIMEOUT_MS: "0" }).includes(
        'DATABASE_STATEMENT_TIMEOUT_MS expected a whole number from 1000 to 600000 (got "0")',
      ),
    );
  });

  it("lists every missing required variable at once", () => {
    const found = problems({});
    assert.equal(found.length, 2);
    assert.match(found[0]!, /^DATABASE_URL is required/);
    assert.match(found[1]!, /^BETTER_AUTH_SECRET is required/);
  });

  it("treats empty values as unset", () => {
    const config = loadConfig({ ...VALID, BETTER_AUTH_URL: "", LOG_LEVEL: " ", LLM_PROVIDER: "" });
    assert.equal(config.betterAuthUrl, undefined);
    assert.equal(config.logLevel, "info");
    assert.equal(config.llm.provider, "builtin");
  });

  it("keeps only the origin of BETTER_AUTH_URL and refuses a URL with a path", () => {
    assert.equal(
      loadConfig({ ...VALID, BETTER_AUTH_URL: "https://todo.example.com/" }).betterAuthUrl,
      "https://todo.example.com",
    );
    assert.match(
      problems({ ...VALID, BETTER_AUTH_URL: "https://todo.example.com/app" })[0]!,
      /BETTER_AUTH_URL expected an origin/,
    );
    assert.match(problems({ ...VALID, BETTER_AUTH_URL: "todo.example.com" })[0]!, /got "todo.example.com"/);
  });

  it("names the bad value and the allowed ones, without revealing secrets", () => {
    const found = problems({ ...VALID, LOG_LEVEL: "loud", BETTER_AUTH_SECRET: "secret-but-short", PORT: "70000" });
    assert.ok(found.includes('LOG_LEVEL expected one of fatal, error, warn, info, debug, trace, silent (got "loud")'));
    assert.ok(found.includes('PORT expected a whole number from 1 to 65535 (got "70000")'));
    assert.ok(
      found.some((p) => p.startsWith("BETTER_AUTH_SECRET is too short") && p.includes("value hidden, 16 characters")),
    );
    assert.ok(!found.join("\n").includes("secret-but-short"));
  });

  it("validates the auth rate limits", () => {
    const found = problems({ ...VALID, SIGN_UP_RATE_LIMIT: "ten", SIGN_IN_ACCOUNT_RATE_LIMIT: "0" });
    assert.ok(
      found.includes('SIGN_UP_RATE_LIMIT expected a whole number from 1 to 1000000 (got "ten")'),
      found.join("\n"),
    );
    assert.ok(found.includes('SIGN_IN_ACCOUNT_RATE_LIMIT expected a whole number from 1 to 1000000 (got "0")'));
  });

  it("requires the provider's key only for that provider", () => {
    assert.match(
      problems({ ...VALID, LLM_PROVIDER: "openai" })[0]!,
      /^OPENAI_API_KEY is required when LLM_PROVIDER=openai/,
    );
    assert.match(
      problems({ ...VALID, LLM_PROVIDER: "cohere" })[0]!,
      /^COHERE_API_KEY is required when LLM_PROVIDER=cohere/,
    );
    const local = loadConfig({ ...VALID, LLM_PROVIDER: "openai", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" });
    assert.equal(local.llm.model, "gpt-4o-mini");
    const cohere = loadConfig({ ...VALID, LLM_PROVIDER: "cohere", COHERE_API_KEY: "k", LLM_MODEL: "command-r" });
    assert.equal(cohere.llm.model, "command-r");
  });

  it("migrate needs only DATABASE_URL", () => {
    assert.equal(loadMigrateConfig({ DATABASE_URL: VALID.DATABASE_URL }).databaseUrl, VALID.DATABASE_URL);
    assert.throws(() => loadMigrateConfig({ DATABASE_URL: "sqlite://x" }), /DATABASE_URL expected a postgres/);
    assert.equal(loadMigrateConfig({ DATABASE_URL: VALID.DATABASE_URL }).waitSeconds, 60);
    assert.throws(
      () => loadMigrateConfig({ DATABASE_URL: VALID.DATABASE_URL, MIGRATE_WAIT_SECONDS: "1m" }),
      /MIGRATE_WAIT_SECONDS expected a whole number from 0 to 600 \(got "1m"\)/,
    );
  });
});
