import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table conversations (
      id uuid primary key default gen_random_uuid(),
      user_id text not null references users (id) on delete cascade,
      title text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index conversations_user_id_updated_at_idx on conversations (user_id, updated_at desc)`.execute(db);
  await sql`
    create table messages (
      id bigint generated always as identity primary key,
      conversation_id uuid not null references conversations (id) on delete cascade,
      user_id text not null references users (id) on delete cascade,
      role text not null check (role in ('user', 'assistant')),
      content text not null,
      tool_calls jsonb not null default '[]'::jsonb,
      agent_state jsonb,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index messages_conversation_id_id_idx on messages (conversation_id, id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table messages, conversations`.execute(db);
}
