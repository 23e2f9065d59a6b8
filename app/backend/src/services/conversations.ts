import { sql, type Kysely } from "kysely";
import { notFound } from "../errors.js";
import type { Database, MessageRow } from "../db/schema.js";
import type { ToolCall } from "../agent/types.js";

export interface ConversationSummary {
  id: string;
  title: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface Message {
  id: number;
  role: "user" | "assistant";
  content: string;
  toolCalls: ToolCall[];
  createdAt: Date;
}

export interface StoredMessage extends Message {
  agentState: unknown;
}

const TITLE_LENGTH = 60;

function titleFrom(message: string): string {
  const oneLine = message.replace(/\s+/g, " ").trim();
  return oneLine.length <= TITLE_LENGTH ? oneLine : `${oneLine.slice(0, TITLE_LENGTH - 1)}…`;
}

function toMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    role: row.role,
    content: row.content,
    toolCalls: row.tool_calls as ToolCall[],
    agentState: row.agent_state,
    createdAt: row.created_at,
  };
}

/**
 * Conversations and their messages, always scoped by user: the database is the
 * only memory the chat has, so any replica can continue any conversation.
 */
export class ConversationService {
  constructor(private readonly db: Kysely<Database>) {}

  async list(userId: string): Promise<ConversationSummary[]> {
    const rows = await this.db
      .selectFrom("conversations")
      .select(["id", "title", "created_at", "updated_at"])
      .where("user_id", "=", userId)
      .orderBy("updated_at", "desc")
      .limit(100)
      .execute();
    return rows.map((r) => ({ id: r.id, title: r.title, createdAt: r.created_at, updatedAt: r.updated_at }));
  }

  async get(userId: string, id: string): Promise<ConversationSummary & { messages: Message[] }> {
    const conversation = await this.require(userId, id);
    const rows = await this.db
      .selectFrom("messages")
      .selectAll()
      .where("conversation_id", "=", id)
      .orderBy("id")
      .execute();
    const messages = rows.map((row) => {
      const { agentState: _internal, ...message } = toMessage(row);
      return message;
    });
    return { ...conversation, messages };
  }

  async remove(userId: string, id: string): Promise<void> {
    const result = await this.db
      .deleteFrom("conversations")
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) throw notFound(`Conversation ${id}`);
  }

  /** The conversation if it is this user's; a 404 otherwise (also for another user's id). */
  async require(userId: string, id: string): Promise<ConversationSummary> {
    const row = await this.db
      .selectFrom("conversations")
      .select(["id", "title", "created_at", "updated_at"])
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!row) throw notFound(`Conversation ${id}`);
    return { id: row.id, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  async create(userId: string, firstMessage: string): Promise<ConversationSummary> {
    const row = await this.db
      .insertInto("conversations")
      .values({ user_id: userId, title: titleFrom(firstMessage) })
      .returning(["id", "title", "created_at", "updated_at"])
      .executeTakeFirstOrThrow();
    return { id: row.id, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  /**
   * The latest `messages` messages of the user's conversation, oldest first; a 404
   * if it is not theirs. Tool calls (which can hold whole task lists) and agent
   * state are read only for an agent that uses them. Messages carry their owner,
   * so one query both reads and authorizes in the usual case.
   */
  async history(
    userId: string,
    conversationId: string,
    want: { messages: number; toolCalls: boolean },
  ): Promise<StoredMessage[]> {
    const messages = await this.latestMessages(userId, conversationId, want);
    if (messages.length === 0) await this.require(userId, conversationId);
    return messages;
  }

  private async latestMessages(
    userId: string,
    conversationId: string,
    want: { messages: number; toolCalls: boolean },
  ): Promise<StoredMessage[]> {
    const query = this.db
      .selectFrom("messages")
      .where("conversation_id", "=", conversationId)
      .where("user_id", "=", userId)
      .orderBy("id", "desc")
      .limit(want.messages);
    if (want.toolCalls) return (await query.selectAll().execute()).reverse().map(toMessage);
    const rows = await query.select(["id", "role", "content", "created_at"]).execute();
    return rows.reverse().map((row) => ({
      id: row.id,
      role: row.role,
      content: row.content,
      toolCalls: [],
      agentState: null,
      createdAt: row.created_at,
    }));
  }

  async append(
    userId: string,
    conversationId: string,
    message: { role: "user" | "assistant"; content: string; toolCalls?: ToolCall[]; agentState?: unknown },
  ): Promise<StoredMessage> {
    // One round trip: insert the message and mark the conversation active.
    const row = await this.db
      .with("touched", (db) =>
        db
          .updateTable("conversations")
          .set({ updated_at: sql<Date>`now()` })
          .where("id", "=", conversationId),
      )
      .insertInto("messages")
      .values({
        conversation_id: conversationId,
        user_id: userId,
        role: message.role,
        content: message.content,
        tool_calls: JSON.stringify(message.toolCalls ?? []),
        agent_state: message.agentState === undefined ? null : JSON.stringify(message.agentState),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toMessage(row);
  }
}
