import { sql, type Kysely } from "kysely";
import { z } from "zod";
import { notFound } from "../errors.js";
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

function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** The rules every way of writing a task shares (REST, chat tools, MCP). */
export const TaskFields = {
  title: z
    .string()
    .trim()
    .min(1, { message: "must not be blank" })
    .max(TITLE_MAX, { message: `must be at most ${TITLE_MAX} characters` }),
  description: z
    .string()
    .trim()
    .max(DESCRIPTION_MAX, { message: `must be at most ${DESCRIPTION_MAX} characters` }),
  priority: z.enum(["low", "medium", "high"], { message: "expected one of low, medium, high" }),
  dueDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "expected a date as YYYY-MM-DD" })
    .refine(isCalendarDate, { message: "expected a real calendar date as YYYY-MM-DD" }),
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

function toTask(row: TaskRow): Task {
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
  constructor(private readonly db: Kysely<Database>) {}

  async list(userId: string, options: ListOptions = {}): Promise<{ tasks: Task[]; total: number }> {
    const { status = "all", limit = 100, offset = 0 } = options;
    let query = this.db.selectFrom("tasks").where("user_id", "=", userId);
    if (status !== "all") query = query.where("completed", "=", status === "completed");
    // The window count gives the total in the same round trip as the page.
    const rows = await query
      .selectAll()
      .select(sql<number>`count(*) over ()`.as("total"))
      .orderBy("id")
      .limit(limit)
      .offset(offset)
      .execute();
    if (rows.length > 0) return { tasks: rows.map(toTask), total: rows[0]!.total };
    if (offset === 0) return { tasks: [], total: 0 };
    const counted = await query.select(sql<number>`count(*)`.as("total")).executeTakeFirstOrThrow();
    return { tasks: [], total: counted.total };
  }

  /**
   * The same page as list(), already rendered as the API's JSON body by
   * PostgreSQL. GET /api/tasks is the hottest route: this way Node forwards one
   * string instead of parsing every row and serializing it again, and the work
   * runs on the database's core. test/tasks.test.ts checks that both renderings agree.
   */
  async listJson(userId: string, options: ListOptions = {}): Promise<string> {
    const { status = "all", limit = 100, offset = 0 } = options;
    const completed = status === "all" ? null : status === "completed";
    const matches = sql`user_id = ${userId} and (${completed}::boolean is null or completed = ${completed})`;
    const isoTime = (column: string) =>
      sql`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    const result = await sql<{ body: string }>`
      with page as (
        select * from tasks where ${matches} order by id limit ${limit} offset ${offset}
      )
      select json_build_object(
        'tasks', coalesce((
          select json_agg(json_build_object(
            'id', id, 'title', title, 'description', description, 'completed', completed,
            'priority', priority, 'dueDate', due_date,
            'createdAt', ${isoTime("created_at")}, 'updatedAt', ${isoTime("updated_at")}
          ) order by id) from page), '[]'::json),
        'total', (select count(*) from tasks where ${matches})
      )::text as body`.execute(this.db);
    return result.rows[0]!.body;
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
    const row = await this.db
      .insertInto("tasks")
      .values({
        user_id: userId,
        title: input.title,
        description: optionalText(input.description) ?? null,
        priority: input.priority,
        due_date: input.dueDate ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toTask(row);
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
