import type { Migration } from "kysely";
import * as auth from "./0001_auth.js";
import * as tasks from "./0002_tasks.js";
import * as conversations from "./0003_conversations.js";
import * as conversationTouch from "./0004_conversation_touch.js";

/**
 * Every migration, by name, in the order they apply. Imported statically (not
 * read from a folder at run time) so the compiled image needs no file scanning.
 * Names are permanent: they are recorded in kysely_migration.
 */
export const migrations: Record<string, Migration> = {
  "0001_auth": auth,
  "0002_tasks": tasks,
  "0003_conversations": conversations,
  "0004_conversation_touch": conversationTouch,
};
