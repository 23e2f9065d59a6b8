import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/**
 * Tables this code queries directly. Better Auth's own tables (users,
 * sessions, accounts, verifications) are created by migration 0001 and
 * queried only through Better Auth, except `users` for foreign keys.
 */
export interface Database {
  tasks: TasksTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
}

type CreatedAt = ColumnType<Date, never, never>;
type UpdatedAt = ColumnType<Date, never, Date>;

export type Priority = "low" | "medium" | "high";

export interface TasksTable {
  id: Generated<number>;
  user_id: string;
  title: string;
  description: string | null;
  completed: ColumnType<boolean, boolean | undefined, boolean>;
  priority: ColumnType<Priority, Priority | undefined, Priority>;
  /** ISO calendar date (YYYY-MM-DD); the pool returns DATE columns as strings. */
  due_date: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ConversationsTable {
  id: Generated<string>;
  user_id: string;
  title: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MessagesTable {
  id: Generated<number>;
  conversation_id: string;
  user_id: string;
  role: "user" | "assistant";
  content: string;
  tool_calls: ColumnType<unknown[], string | undefined, string>;
  /** Builtin agent state carried to the next turn (e.g. an open clarification question). */
  agent_state: ColumnType<unknown | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

export type TaskRow = Selectable<TasksTable>;
export type NewTaskRow = Insertable<TasksTable>;
export type TaskRowUpdate = Updateable<TasksTable>;
export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
