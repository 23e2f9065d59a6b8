import { Migrator, sql, type Kysely, type MigrationResultSet } from "kysely";
import { migrations } from "./migrations/index.js";

function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/**
 * Applies every pending migration. Kysely takes a PostgreSQL advisory lock for
 * the run, so two replicas starting at once apply each migration exactly once.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  return createMigrator(db).migrateToLatest();
}

/** Names of migrations this build knows that the database has not applied yet. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const known = Object.keys(migrations);
  const table = await sql<{ exists: boolean }>`select to_regclass('kysely_migration') is not null as exists`.execute(
    db,
  );
  if (!table.rows[0]?.exists) return known;
  const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const appliedNames = new Set(applied.rows.map((row) => row.name));
  return known.filter((name) => !appliedNames.has(name));
}
