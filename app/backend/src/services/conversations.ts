import type { Kysely } from "kysely";
import type pg from "pg";
import { notFound } from "../errors.js";
import type { DatabaseHandle } from "../db/database.js";
import type { Database, MessageRow } from "../db/schema.js";
import type { ChatTurn, ToolCall } from "../agent/types.js";

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

const TITLE_LENGTH = 60;

// A chat turn's statements, named so PostgreSQL parses and plans each once per connection.
// The parts of one statement share a snapshot: the history read does not see the message
// inserted beside it, and the user's message is only inserted if the conversation is theirs.

const START_CONVERSATION = `
  with conversation as (
    insert into conversations (user_id, title) values ($1, $2) returning id
  )
  insert into messages (conversation_id, user_id, role, content)
  select id, $1, 'user', $3 from conversation
  returning conversation_id`;

/** One row per earlier message (role null when there is none); no row when the conversation is not the user's. */
const CONTINUE_CONVERSATION = `
  with conversation as (
    update conversations set updated_at = now() where id = $1 and user_id = $2 returning id
  ), saved as (
    insert into messages (conversation_id, user_id, role, content)
    select id, $2, 'user', $3 from conversation
    returning id
  )
  select history.role, history.content, history.agent_state
  from saved left join (
    select id, role, content, agent_state from messages
    where conversation_id = $1 and user_id = $2
    order by id desc limit $4
  ) history on true
  order by history.id`;

/** The turn's start already marked the conversation active; the reply only adds its message. */
const SAVE_REPLY = `
  insert into messages (conversation_id, user_id, role, content, tool_calls, agent_state)
  values ($1, $2, 'assistant', $3, $4, $5)`;

function titleFrom(message: string): string {
  const oneLine = message.replace(/\s+/g, " ").trim();
  return oneLine.length <= TITLE_LENGTH ? oneLine : `${oneLine.slice(0, TITLE_LENGTH - 1)}…`;
}

function toMessage(row: Omit<MessageRow, "user_id" | "conversation_id" | "agent_state">): Message {
  return {
    id: row.id,
    role: row.role,
    content: row.content,
    toolCalls: row.tool_calls as ToolCall[],
    createdAt: row.created_at,
  };
}

/**
 * Conversations and their messages, always scoped by user: the database is the
 * only memory the chat has, so any replica can continue any conversation.
 */
export class ConversationService {
  private readonly db: Kysely<Database>;
  private readonly pool: pg.Pool;

  constructor(database: DatabaseHandle) {
    this.db = database.db;
    this.pool = database.pool;
  }

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
      .select(["id", "role", "content", "tool_calls", "created_at"])
      .where("conversation_id", "=", id)
      .orderBy("id")
      .execute();
    return { ...conversation, messages: rows.map(toMessage) };
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

  /**
   * Opens a chat turn in one round trip: stores the user's message (in a new
   * conversation when none is given, else marking that one active) and returns the
   * latest `historyLength` earlier messages, oldest first. The user's message is
   * committed before any agent runs, so whatever the agent does it is never lost.
   * A conversation that is not this user's is a 404, exactly like a missing one.
   */
  async startTurn(
    userId: string,
    input: { message: string; conversationId?: string },
    historyLength: number,
  ): Promise<{ conversationId: string; history: ChatTurn[] }> {
    if (input.conversationId === undefined) {
      const created = await this.pool.query<{ conversation_id: string }>({
        name: "conversations.start",
        text: START_CONVERSATION,
        values: [userId, titleFrom(input.message), input.message],
      });
      return { conversationId: created.rows[0]!.conversation_id, history: [] };
    }
    const rows = await this.pool.query<{ role: "user" | "assistant" | null; content: string; agent_state: unknown }>({
      name: "conversations.continue",
      text: CONTINUE_CONVERSATION,
      values: [input.conversationId, userId, input.message, historyLength],
    });
    if (rows.rows.length === 0) throw notFound(`Conversation ${input.conversationId}`);
    const history = rows.rows.flatMap((row) =>
      row.role === null ? [] : [{ role: row.role, content: row.content, agentState: row.agent_state }],
    );
    return { conversationId: input.conversationId, history };
  }

  /** Stores the agent's reply with its tool calls and its state for the next turn. */
  async saveReply(
    userId: string,
    conversationId: string,
    reply: { content: string; toolCalls: ToolCall[]; agentState?: unknown },
  ): Promise<void> {
    await this.pool.query({
      name: "conversations.save-reply",
      text: SAVE_REPLY,
      values: [
        conversationId,
        userId,
        reply.content,
        JSON.stringify(reply.toolCalls),
        reply.agentState === undefined ? null : JSON.stringify(reply.agentState),
      ],
    });
  }
}
