/**
 * How the browser's API client reads a failed answer: the message a person is
 * shown, and what else the backend said (a failed chat turn names the
 * conversation it saved the message in and the tools that had already run).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { failureOf } from "../lib/api";

const ADDED = { tool: "add_task", arguments: { title: "water the garden" }, result: { task_id: 7, status: "created" } };

describe("a failed chat turn", () => {
  test("502 llm_error: the backend's own message, the conversation it was saved in and the tools already run", () => {
    const failure = failureOf(502, {
      error: {
        code: "llm_error",
        message: "The openai model request failed: HTTP 500. Your message was saved; try again.",
        conversationId: "42",
        toolCalls: [ADDED],
      },
    });
    assert.equal(failure.status, 502);
    assert.equal(failure.code, "llm_error");
    assert.equal(failure.message, "The openai model request failed: HTTP 500. Your message was saved; try again.");
    assert.equal(failure.conversationId, "42");
    assert.deepEqual(failure.toolCalls, [ADDED]);
  });

  test("504 llm_timeout: the same, with no tools run", () => {
    const failure = failureOf(504, {
      error: { code: "llm_timeout", message: "The assistant did not answer in time (30 s). Your message was saved; try again.", conversationId: 9, toolCalls: [] },
    });
    assert.match(failure.message, /Your message was saved/);
    assert.equal(failure.conversationId, 9);
    assert.deepEqual(failure.toolCalls, []);
  });
});

describe("other failures", () => {
  test("a 500 gets the general words, whatever the server wrote for its operators", () => {
    const failure = failureOf(500, { error: { code: "internal_error", message: "relation tasks does not exist" } });
    assert.equal(failure.message, "Something went wrong on the server. Please try again in a moment.");
    assert.equal(failure.conversationId, undefined);
    assert.deepEqual(failure.toolCalls, []);
  });

  test("a 4xx shows the server's message as a sentence", () => {
    assert.equal(failureOf(404, { error: { code: "not_found", message: "task not found" } }).message, "Task not found.");
    assert.equal(failureOf(401, { code: "INVALID_EMAIL_OR_PASSWORD", message: "Invalid email or password" }).message, "Invalid email or password.");
  });

  test("an answer without a usable body still gets plain words", () => {
    assert.equal(failureOf(429, null).message, "Too many requests in a short time. Please wait a moment and try again.");
    assert.equal(failureOf(502, "<html>bad gateway</html>").code, "HTTP_502");
  });

  test("tool calls of the wrong shape are ignored rather than shown", () => {
    const failure = failureOf(502, { error: { code: "llm_error", message: "x", conversationId: "1", toolCalls: [null, { nope: 1 }, ADDED] } });
    assert.deepEqual(failure.toolCalls, [ADDED]);
  });
});
