import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { FastifyBaseLogger } from "fastify";
import { TaskTools, TOOL_DESCRIPTIONS, TOOL_NAMES, TOOL_SCHEMAS, type ToolName } from "../agent/tools.js";
import { isInvalidDataError } from "../errors.js";
import type { TaskService } from "../services/tasks.js";

export const MCP_SERVER_INFO = { name: "todo-backend", version: "0.1.0" };

/**
 * What an MCP client is told when a tool fails on our side. The SDK would otherwise send the
 * thrown error's text, which for a database error is PostgreSQL's own message (tables,
 * columns, values); that detail goes to the log instead.
 */
function failureText(name: ToolName, error: unknown): string {
  if (isInvalidDataError(error)) {
    return `${name} failed: the database refused one of the arguments as invalid data; check their formats and lengths`;
  }
  return `${name} failed on the server; the error has been logged`;
}

/**
 * An MCP server exposing the five task tools for one authenticated user. It is
 * built per request: the transport is stateless, so any replica can serve any call.
 */
export function createMcpServer(tasks: TaskService, userId: string, log: FastifyBaseLogger): McpServer {
  const server = new McpServer(MCP_SERVER_INFO, {
    instructions: "Manage the signed-in user's todo list: add, list, complete, delete and update tasks.",
  });
  for (const name of TOOL_NAMES) {
    server.registerTool(
      name,
      { description: TOOL_DESCRIPTIONS[name], inputSchema: TOOL_SCHEMAS[name] },
      async (args: unknown) => {
        let result;
        try {
          result = await new TaskTools(tasks, userId).call(name, args);
        } catch (error) {
          log.error({ err: error, tool: name }, "MCP tool failed");
          result = { error: failureText(name, error) };
        }
        const isError = !Array.isArray(result) && "error" in result;
        return { content: [{ type: "text" as const, text: JSON.stringify(result) }], isError };
      },
    );
  }
  return server;
}
