import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { TaskTools, TOOL_DESCRIPTIONS, TOOL_NAMES, TOOL_SCHEMAS } from "../agent/tools.js";
import type { TaskService } from "../services/tasks.js";

export const MCP_SERVER_INFO = { name: "todo-backend", version: "0.1.0" };

/**
 * An MCP server exposing the five task tools for one authenticated user. It is
 * built per request: the transport is stateless, so any replica can serve any call.
 */
export function createMcpServer(tasks: TaskService, userId: string): McpServer {
  const server = new McpServer(MCP_SERVER_INFO, {
    instructions: "Manage the signed-in user's todo list: add, list, complete, delete and update tasks.",
  });
  for (const name of TOOL_NAMES) {
    server.registerTool(
      name,
      { description: TOOL_DESCRIPTIONS[name], inputSchema: TOOL_SCHEMAS[name] },
      async (args: unknown) => {
        const result = await new TaskTools(tasks, userId).call(name, args);
        const isError = !Array.isArray(result) && "error" in result;
        return { content: [{ type: "text" as const, text: JSON.stringify(result) }], isError };
      },
    );
  }
  return server;
}
