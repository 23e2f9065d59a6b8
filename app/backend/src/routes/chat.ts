import type { FastifyInstance } from "fastify";
import type {} from "@fastify/rate-limit";
import { z } from "zod";
import { AppError } from "../errors.js";
import type { ChatService } from "../services/chat.js";
import { withoutNul } from "../services/tasks.js";
import { parseInput } from "./validation.js";

export const MESSAGE_MAX = 4000;

const ChatBody = z.strictObject({
  message: withoutNul(
    z
      .string()
      .trim()
      .min(1, { message: "must not be blank" })
      .max(MESSAGE_MAX, { message: `must be at most ${MESSAGE_MAX} characters` }),
  ),
  conversationId: z.uuid({ message: "expected a conversation id (a UUID)" }).optional(),
});

export async function chatRoutes(
  app: FastifyInstance,
  options: { chat: ChatService; chatPerMinute: number },
): Promise<void> {
  app.post(
    "/api/chat",
    {
      config: {
        rateLimit: {
          max: options.chatPerMinute,
          timeWindow: 60_000,
          // After requireUser (onRequest), so the limit is per user, not per proxy IP.
          hook: "preHandler",
          keyGenerator: (request) => `chat:${request.user.id}`,
          errorResponseBuilder: (_request, context) =>
            new AppError(
              429,
              "rate_limited",
              `Too many chat messages: at most ${context.max} per minute. Try again in ${context.after}.`,
            ),
        },
      },
    },
    async (request) => {
      const body = parseInput(ChatBody, request.body, "body");
      return options.chat.send(request.user.id, body);
    },
  );
}
