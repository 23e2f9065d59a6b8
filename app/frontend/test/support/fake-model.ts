/**
 * An OpenAI-compatible Chat Completions server for the browser tests, run as a
 * real HTTP server that the real backend calls (LLM_PROVIDER=openai,
 * OPENAI_BASE_URL). It stands in for the one thing these tests cannot reach,
 * a model provider, and lets them make it fail the ways real ones do.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * - `tool-then-fail`: asks for add_task with the text after "add ", then
 *   answers HTTP 500 once the backend sends the tool's result.
 * - `hang`: never answers (the backend's time budget runs out).
 * - `words`: answers in words, without tools.
 */
export type Behaviour = "tool-then-fail" | "hang" | "words";

interface Message {
  readonly role: string;
  readonly content?: string | null;
}

export class FakeModel {
  behaviour: Behaviour = "words";
  private readonly server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<void> {
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
  }

  /** The value for OPENAI_BASE_URL. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `no ${req.method} ${req.url} here` } }));
      return;
    }
    const { messages } = JSON.parse(Buffer.concat(chunks).toString()) as { messages: Message[] };
    const last = messages.at(-1);

    if (this.behaviour === "hang") return; // The socket stays open until the backend gives up.
    if (this.behaviour === "tool-then-fail" && last?.role === "tool") {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "the model crashed", type: "server_error" } }));
      return;
    }
    const asked = last?.role === "user" ? String(last.content ?? "") : "";
    const title = /^add (.+)$/i.exec(asked)?.[1];
    if (this.behaviour === "tool-then-fail" && title) {
      answer(res, {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "add_task", arguments: JSON.stringify({ title }) } }],
      });
      return;
    }
    answer(res, { role: "assistant", content: "All done." });
  }
}

function answer(res: http.ServerResponse, message: Record<string, unknown>): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      id: "chatcmpl-fake",
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: "fake",
      choices: [{ index: 0, message, finish_reason: "tool_calls" in message ? "tool_calls" : "stop", logprobs: null }],
    }),
  );
}
