/** Shapes of the backend's JSON, as documented in shared/DESIGN.md. */

/** The backend's limits on task and chat text, mirrored so the inputs stop there too. */
export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 2000;
export const MESSAGE_MAX = 4000;
/** The most tasks the backend returns in one page (its `limit` cap). */
export const TASK_PAGE_SIZE = 100;

export type TaskId = string | number;

export interface Task {
  readonly id: TaskId;
  readonly title: string;
  readonly description: string | null;
  readonly completed: boolean;
  readonly priority: string | null;
  readonly dueDate: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type TaskFilter = "all" | "pending" | "completed";

export interface TaskList {
  readonly tasks: Task[];
  readonly total: number;
}

export interface ToolCall {
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
  readonly result: unknown;
}

export interface ChatReply {
  readonly conversationId: string | number;
  readonly reply: string;
  readonly toolCalls: ToolCall[];
}

export interface ConversationSummary {
  readonly id: string | number;
  readonly title?: string | null;
  readonly createdAt: string;
  readonly updatedAt?: string;
}

export interface ChatMessage {
  readonly id: string | number;
  readonly role: "user" | "assistant";
  readonly content: string;
  readonly toolCalls?: ToolCall[] | null;
  readonly createdAt?: string;
}

export interface Conversation extends ConversationSummary {
  readonly messages: ChatMessage[];
}

export interface User {
  readonly id: string;
  readonly name: string;
  readonly email: string;
}

export interface Session {
  readonly user: User;
}
