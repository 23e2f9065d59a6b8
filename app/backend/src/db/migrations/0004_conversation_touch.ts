import { sql, type Kysely } from "kysely";

// Every chat message marks its conversation active (updated_at = now()). With updated_at in an
// index, each of those updates wrote new index entries instead of a heap-only (HOT) update, and
// under load the index grew by thousands of dead entries per conversation. A user's conversations
// are few, so listing them sorts them without an index on updated_at.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index conversations_user_id_idx on conversations (user_id)`.execute(db);
  await sql`drop index conversations_user_id_updated_at_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index conversations_user_id_updated_at_idx on conversations (user_id, updated_at desc)`.execute(db);
  await sql`drop index conversations_user_id_idx`.execute(db);
}
