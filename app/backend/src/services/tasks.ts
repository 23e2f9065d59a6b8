import { sql, type Kysely } from "kysely";
import type pg from "pg";
import { z } from "zod";
import { notFound } from "../errors.js";
import type { DatabaseHandle } from "../db/database.js";
import type { Database, Priority, TaskRow } from "../db/schema.js";

/** A task as the API, the chat tools and MCP present it. */
export interface Task {
  id: number;
  title: string;
  description: string | null;
  completed: boolean;
  priority: Priority;
  dueDate: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type TaskStatus = "all" | "pending" | "completed";

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 2000;

/** 0001-01-01..9999-12-31: JavaScript accepts year 0000, PostgreSQL's DATE does not (it has no year zero). */
function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.toISOString().slice(0, 10) === value;
}

/**
 * PostgreSQL text cannot hold U+0000: an insert fails with "invalid byte sequence", which
 * would otherwise surface as a 500. Every free-text field of the API refuses it up front.
 */
export function withoutNul<S extends z.ZodString>(schema: S) {
  return schema.refine((value) => !value.includes("\u0000"), { message: "must not contain NUL characters" });
}

/** The rules every way of writing a task shares (REST, chat tools, MCP). */
export const TaskFields = {
  title: withoutNul(
    z
      .string()
      .trim()
      .min(1, { message: "must not be blank" })
      .max(TITLE_MAX, { message: `must be at most ${TITLE_MAX} characters` }),
  ),
  description: withoutNul(
    z
      .string()
      .trim()
      .max(DESCRIPTION_MAX, { message: `must be at most ${DESCRIPTION_MAX} characters` }),
  ),
  priority: z.enum(["low", "medium", "high"], { message: "expected one of low, medium, high" }),
  dueDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "expected a date as YYYY-MM-DD" })
    .refine(isCalendarDate, { message: "expected a real calendar date from 0001-01-01 to 9999-12-31 as YYYY-MM-DD" }),
  status: z.enum(["all", "pending", "completed"], { message: "expected one of all, pending, completed" }),
};

export interface NewTask {
  title: string;
  description?: string | null;
  priority?: Priority;
  dueDate?: string | null;
}

export interface TaskPatch {
  title?: string;
  description?: string | null;
  priority?: Priority;
  dueDate?: string | null;
  completed?: boolean;
}

export interface ListOptions {
  status?: TaskStatus;
  limit?: number;
  offset?: number;
}

/*
 * Listing and creating tasks are the hot paths (GET and POST /api/tasks, the chat's
 * add_task and list_tasks), so they are named prepared statements: PostgreSQL parses and
 * plans each once per connection instead of once per request. They name their columns,
 * since a prepared `select *` fails with "cached plan must not change result type" once a
 * migration adds a column.
 */
const TASK_COLUMNS = "id, title, description, completed, priority, due_date, created_at, updated_at";

/** The window count gives the total in the same round trip as the page. */
const LIST_SELECT = `select ${TASK_COLUMNS}, count(*) over () as total from tasks`;

/** A task created without a priority gets "medium", like the column's default (migration 0002). */
const INSERT_TASK = `
  insert into tasks (user_id, title, description, priority, due_date)
  values ($1, $2, $3, coalesce($4, 'medium'), $5)
  returning ${TASK_COLUMNS}`;

type StoredTask = Omit<TaskRow, "user_id">;

function toTask(row: StoredTask): Task {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    completed: row.completed,
    priority: row.priority,
    dueDate: row.due_date,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Normalises "" to null so clearing a description stores no value rather than an empty one. */
function optionalText(value: string | null | undefined): string | null | undefined {
  return value === "" ? null : value;
}

/**
 * A user's tasks. Every query is scoped by user id, so another user's task id
 * behaves exactly like one that does not exist.
 */
export class TaskService {
  private readonly db: Kysely<Database>;
  private readonly pool: pg.Pool;

  constructor(database: DatabaseHandle) {
    this.db = database.db;
    this.pool = database.pool;
  }

  async list(userId: string, options: ListOptions = {}): Promise<{ tasks: Task[]; total: number }> {
    const { status = "all", limit = 100, offset = 0 } = options;
    const page =
      status === "all"
        ? await this.pool.query<StoredTask & { total: number }>({
            name: "tasks.list",
            text: `${LIST_SELECT} where user_id = $1 order by id limit $2 offset $3`,
            values: [userId, limit, offset],
          })
        : await this.pool.query<StoredTask & { total: number }>({
            name: "tasks.list-by-status",
            text: `${LIST_SELECT} where user_id = $1 and completed = $4 order by id limit $2 offset $3`,
            values: [userId, limit, offset, status === "completed"],
          });
    if (page.rows.length > 0) return { tasks: page.rows.map(toTask), total: page.rows[0]!.total };
    if (offset === 0) return { tasks: [], total: 0 };
    // Past the last page the window count has no row to ride on.
    let count = this.db.selectFrom("tasks").where("user_id", "=", userId);
    if (status !== "all") count = count.where("completed", "=", status === "completed");
    const counted = await count.select(sql<number>`count(*)`.as("total")).executeTakeFirstOrThrow();
    return { tasks: [], total: counted.total };
  }

  async get(userId: string, id: number): Promise<Task> {
    const row = await this.db
      .selectFrom("tasks")
      .selectAll()
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!row) throw notFound(`Task ${id}`);
    return toTask(row);
  }

  async create(userId: string, input: NewTask): Promise<Task> {
    const created = await this.pool.query<StoredTask>({
      name: "tasks.create",
      text: INSERT_TASK,
      values: [
        userId,
        input.title,
        optionalText(input.description) ?? null,
        input.priority ?? null,
        input.dueDate ?? null,
      ],
    });
    return toTask(created.rows[0]!);
  }

  async update(userId: string, id: number, patch: TaskPatch): Promise<Task> {
    const row = await this.db
      .updateTable("tasks")
      .set({
        title: patch.title,
        description: optionalText(patch.description),
        priority: patch.priority,
        due_date: patch.dueDate,
        completed: patch.completed,
        updated_at: sql<Date>`now()`,
      })
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound(`Task ${id}`);
    return toTask(row);
  }

  async remove(userId: string, id: number): Promise<Task> {
    const row = await this.db
      .deleteFrom("tasks")
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound(`Task ${id}`);
    return toTask(row);
  }
}
