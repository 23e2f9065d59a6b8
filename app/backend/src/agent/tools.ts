import { z } from "zod";
import { AppError } from "../errors.js";
import { TaskFields, type Task, type TaskService } from "../services/tasks.js";
import type { ToolCall } from "./types.js";

const TaskId = z.coerce
  .number({ message: "expected a task id (a positive whole number)" })
  .int({ message: "expected a task id (a positive whole number)" })
  .positive({ message: "expected a task id (a positive whole number)" })
  .max(2147483647, { message: "expected a task id up to 2147483647" });

/** Tasks read per query by list_tasks; most users' whole list fits in one. */
const LIST_PAGE_SIZE = 500;

/**
 * The five task tools of the Phase III MCP spec. The user id is never a
 * parameter: it comes from the authenticated session that built the TaskTools.
 */
export const TOOL_SCHEMAS = {
  add_task: z.strictObject({
    title: TaskFields.title.describe("Short title of the task, e.g. 'Buy milk'"),
    description: TaskFields.description.optional().describe("Optional longer description"),
  }),
  list_tasks: z.strictObject({
    status: TaskFields.status.optional().describe("Which tasks to list: all (default), pending or completed"),
  }),
  complete_task: z.strictObject({ task_id: TaskId.describe("The id of the task to mark as completed") }),
  delete_task: z.strictObject({ task_id: TaskId.describe("The id of the task to delete") }),
  update_task: z
    .strictObject({
      task_id: TaskId.describe("The id of the task to change"),
      title: TaskFields.title.optional().describe("New title"),
      description: TaskFields.description.optional().describe("New description"),
    })
    .refine((args) => args.title !== undefined || args.description !== undefined, {
      message: "give a new title or a new description",
    }),
} as const;

export type ToolName = keyof typeof TOOL_SCHEMAS;
export const TOOL_NAMES = Object.keys(TOOL_SCHEMAS) as ToolName[];

export const TOOL_DESCRIPTIONS: Record<ToolName, string> = {
  add_task: "Create a new task for the user.",
  list_tasks: "List the user's tasks, optionally only pending or only completed ones.",
  complete_task: "Mark one of the user's tasks as completed.",
  delete_task: "Delete one of the user's tasks.",
  update_task: "Change the title and/or description of one of the user's tasks.",
};

export interface ListedTask {
  id: number;
  title: string;
  description: string | null;
  completed: boolean;
  priority: Task["priority"];
  due_date: string | null;
}

export interface TaskChange {
  task_id: number;
  status: "created" | "completed" | "deleted" | "updated";
  title: string;
}

export type ToolResult = TaskChange | ListedTask[] | { error: string };

function changed(task: Task, status: TaskChange["status"]): TaskChange {
  return { task_id: task.id, status, title: task.title };
}

function listed(task: Task): ListedTask {
  return {
    id: task.id,
    title: task.title,
    description: task.description,
    completed: task.completed,
    priority: task.priority,
    due_date: task.dueDate,
  };
}

/** JSON Schema of each tool's parameters, for model providers' tool definitions. */
export function toolJsonSchema(name: ToolName): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(TOOL_SCHEMAS[name], { io: "input" }) as Record<
    string,
    unknown
  >;
  return schema;
}

/**
 * The tools bound to one user. Every call is validated, executed and recorded,
 * so the chat reply can report exactly which tools ran with which results.
 * Bad arguments or a missing task become an `{ error }` result the model can read,
 * never an exception that would abort the conversation.
 */
export class TaskTools {
  readonly calls: ToolCall[] = [];
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly tasks: TaskService,
    private readonly userId: string,
    /** Once aborted (the chat turn was given up), no further tool call starts. */
    private readonly signal?: AbortSignal,
  ) {}

  async call(name: string, rawArgs: unknown): Promise<ToolResult> {
    if (this.signal?.aborted) throw this.signal.reason ?? new Error("the chat turn was abandoned");
    const args = rawArgs && typeof rawArgs === "object" ? (rawArgs as Record<string, unknown>) : {};
    const work = this.record(name, args);
    this.inFlight = work.then(
      () => {},
      () => {},
    );
    return work;
  }

  /** Resolves once the tool call in flight (if any) has finished and been recorded in `calls`. */
  settled(): Promise<void> {
    return this.inFlight;
  }

  private async record(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    const result = await this.execute(name, args);
    this.calls.push({ tool: name, arguments: args, result });
    return result;
  }

  private async execute(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    if (!(name in TOOL_SCHEMAS)) return { error: `Unknown tool "${name}". Available: ${TOOL_NAMES.join(", ")}` };
    const parsed = TOOL_SCHEMAS[name as ToolName].safeParse(args);
    if (!parsed.success) {
      return {
        error: parsed.error.issues
          .map((issue) => `${issue.path.join(".") || "arguments"}: ${issue.message}`)
          .join("; "),
      };
    }
    try {
      return await this.run(name as ToolName, parsed.data);
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 404) return { error: error.message };
      throw error;
    }
  }

  private async run(name: ToolName, args: any): Promise<ToolResult> {
    switch (name) {
      case "add_task":
        return changed(
          await this.tasks.create(this.userId, { title: args.title, description: args.description }),
          "created",
        );
      case "list_tasks": {
        // Every matching task, page by page: the agents pick tasks by title from this list, so
        // a task past the first page would be invisible to "complete the milk one".
        const status = args.status ?? "all";
        const found: Task[] = [];
        for (;;) {
          const page = await this.tasks.list(this.userId, { status, limit: LIST_PAGE_SIZE, offset: found.length });
          found.push(...page.tasks);
          if (page.tasks.length < LIST_PAGE_SIZE || found.length >= page.total) break;
        }
        return found.map(listed);
      }
      case "complete_task":
        return changed(await this.tasks.update(this.userId, args.task_id, { completed: true }), "completed");
      case "delete_task":
        return changed(await this.tasks.remove(this.userId, args.task_id), "deleted");
      case "update_task":
        return changed(
          await this.tasks.update(this.userId, args.task_id, { title: args.title, description: args.description }),
          "updated",
        );
    }
  }
}
