import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { TaskFields, type TaskService } from "../services/tasks.js";
import { IdParam, parseInput } from "./validation.js";

function queryInt(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d+$/, { message: `expected a whole number from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `expected a whole number from ${min} to ${max}` })
    .default(fallback);
}

const ListQuery = z.strictObject({
  status: TaskFields.status.default("all"),
  limit: queryInt(1, 100, 100),
  offset: queryInt(0, 1_000_000, 0),
});

const CreateBody = z.strictObject({
  title: TaskFields.title,
  description: TaskFields.description.nullable().optional(),
  priority: TaskFields.priority.optional(),
  dueDate: TaskFields.dueDate.nullable().optional(),
});

const PatchBody = z
  .strictObject({
    title: TaskFields.title.optional(),
    description: TaskFields.description.nullable().optional(),
    priority: TaskFields.priority.optional(),
    dueDate: TaskFields.dueDate.nullable().optional(),
    completed: z.boolean({ message: "expected true or false" }).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, {
    message: "give at least one field to change: title, description, priority, dueDate, completed",
  });

const Params = z.strictObject({ id: IdParam });

export async function taskRoutes(app: FastifyInstance, { tasks }: { tasks: TaskService }): Promise<void> {
  app.get("/api/tasks", async (request, reply) => {
    const query = parseInput(ListQuery, request.query, "query");
    return reply.type("application/json; charset=utf-8").send(await tasks.listJson(request.user.id, query));
  });

  app.post("/api/tasks", async (request, reply) => {
    const body = parseInput(CreateBody, request.body, "body");
    return reply.status(201).send(await tasks.create(request.user.id, body));
  });

  app.get("/api/tasks/:id", async (request) => {
    const { id } = parseInput(Params, request.params, "params");
    return tasks.get(request.user.id, id);
  });

  app.patch("/api/tasks/:id", async (request) => {
    const { id } = parseInput(Params, request.params, "params");
    const patch = parseInput(PatchBody, request.body, "body");
    return tasks.update(request.user.id, id, patch);
  });

  app.delete("/api/tasks/:id", async (request, reply) => {
    const { id } = parseInput(Params, request.params, "params");
    await tasks.remove(request.user.id, id);
    return reply.status(204).send();
  });
}
