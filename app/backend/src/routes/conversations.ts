import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ConversationService } from "../services/conversations.js";
import { parseInput } from "./validation.js";

const Params = z.strictObject({ id: z.uuid({ message: "expected a conversation id (a UUID)" }) });

export async function conversationRoutes(
  app: FastifyInstance,
  { conversations }: { conversations: ConversationService },
): Promise<void> {
  app.get("/api/conversations", async (request) => ({
    conversations: await conversations.list(request.user.id),
  }));

  app.get("/api/conversations/:id", async (request) => {
    const { id } = parseInput(Params, request.params, "params");
    return conversations.get(request.user.id, id);
  });

  app.delete("/api/conversations/:id", async (request, reply) => {
    const { id } = parseInput(Params, request.params, "params");
    await conversations.remove(request.user.id, id);
    return reply.status(204).send();
  });
}
