import type { FastifyInstance, FastifyReply } from "fastify";
import { errorBody } from "../errors.js";
import type { TaskService } from "../services/tasks.js";

// Loaded on the first MCP request: the SDK is ~9 MiB of memory a replica that never serves MCP does not need.
const loadMcp = async () => {
  const [{ StreamableHTTPServerTransport }, { createMcpServer }] = await Promise.all([
    import("@modelcontextprotocol/sdk/server/streamableHttp.js"),
    import("../mcp/server.js"),
  ]);
  return { StreamableHTTPServerTransport, createMcpServer };
};

/** POST /mcp: MCP over Streamable HTTP, stateless (no session id), JSON responses. */
export async function mcpRoutes(app: FastifyInstance, { tasks }: { tasks: TaskService }): Promise<void> {
  app.post("/mcp", async (request, reply) => {
    const { StreamableHTTPServerTransport, createMcpServer } = await loadMcp();
    const server = createMcpServer(tasks, request.user.id, request.log);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    // The transport writes the response itself.
    reply.hijack();
    reply.raw.on("close", () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      request.log.error({ err: error }, "MCP request failed");
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { "content-type": "application/json" });
        reply.raw.end(JSON.stringify(errorBody("internal_error", "The MCP request failed")));
      }
    }
  });

  // Stateless: there is no stream to open (GET) and no session to end (DELETE).
  const notAllowed = async (_request: unknown, reply: FastifyReply) =>
    reply
      .status(405)
      .header("allow", "POST")
      .send(errorBody("method_not_allowed", "This MCP endpoint is stateless: use POST /mcp"));
  app.get("/mcp", notAllowed);
  app.delete("/mcp", notAllowed);
}
