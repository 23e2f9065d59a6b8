import { sql, type Kysely } from "kysely";

// Limits are repeated as CHECK constraints so the database refuses bad rows even
// from a client that skips the API's validation (the MCP tools, a future script).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table tasks (
      id integer generated always as identity primary key,
      user_id text not null references users (id) on delete cascade,
      title text not null check (char_length(title) between 1 and 200),
      description text check (char_length(description) <= 2000),
      completed boolean not null default false,
      priority text not null default 'medium' check (priority in ('low', 'medium', 'high')),
      due_date date,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  // Every task query is "this user's tasks", optionally by status, in id order.
  await sql`create index tasks_user_id_completed_id_idx on tasks (user_id, completed, id)`.execute(db);
  await sql`create index tasks_user_id_id_idx on tasks (user_id, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table tasks`.execute(db);
}
