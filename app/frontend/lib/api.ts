/**
 * The browser's only way to the backend: same-origin calls to /api/*, which the
 * frontend server proxies. Every failure becomes an ApiError whose message can
 * be shown to the user as is.
 */
import type {
  ChatReply,
  Conversation,
  ConversationSummary,
  Session,
  Task,
  TaskFilter,
  TaskId,
  TaskList,
  ToolCall,
} from "./types";
import { TASK_PAGE_SIZE } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The fields the backend put in its error object beside code and message. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The session is gone or never existed: the user has to sign in (again). */
  get signedOut(): boolean {
    return this.status === 401;
  }

  /** For a failed chat turn: the conversation the backend saved the message in. */
  get conversationId(): string | number | undefined {
    const id = this.details.conversationId;
    return typeof id === "string" || typeof id === "number" ? id : undefined;
  }

  /** For a failed chat turn: the tools the assistant had already run before it failed. */
  get toolCalls(): ToolCall[] {
    const calls = this.details.toolCalls;
    return Array.isArray(calls) ? calls.filter(isToolCall) : [];
  }
}

function isToolCall(value: unknown): value is ToolCall {
  return typeof value === "object" && value !== null && typeof (value as { tool?: unknown }).tool === "string";
}

/** The text to show a person for any failure. */
export function messageOf(failure: unknown): string {
  return failure instanceof ApiError ? failure.message : "Something went wrong. Please try again.";
}

const PLAIN_WORDS: Record<number, string> = {
  401: "You are not signed in. Please sign in again.",
  403: "You are not allowed to do that.",
  404: "That item no longer exists. It may have been deleted.",
  413: "That is too long. Please shorten it and try again.",
  429: "Too many requests in a short time. Please wait a moment and try again.",
};

const SERVER_TROUBLE = "Something went wrong on the server. Please try again in a moment.";

/**
 * 5xx answers whose message is written for people: the proxy's own 502, and the
 * chat's when the model failed or was too slow (it says the message was saved).
 * Other 5xx texts are for operators.
 */
const MESSAGES_FOR_PEOPLE = new Set(["BACKEND_UNAVAILABLE", "llm_error", "llm_timeout"]);

/** Turns a failed answer into the error to show: a message a person can act on, and what else the backend said. */
export function failureOf(status: number, body: unknown): ApiError {
  // The API's shape is { error: { code, message, ...details } }; Better Auth answers { code, message }.
  const found = typeof body === "object" && body !== null ? ((body as { error?: unknown }).error ?? body) : undefined;
  const { code: givenCode, message: givenMessage, ...details } =
    typeof found === "object" && found !== null ? (found as Record<string, unknown>) : {};
  const code = typeof givenCode === "string" ? givenCode : `HTTP_${status}`;
  const serverMessage = typeof givenMessage === "string" ? givenMessage.trim() : "";

  let message: string;
  if (MESSAGES_FOR_PEOPLE.has(code) && serverMessage !== "") message = serverMessage;
  else if (status >= 500) message = SERVER_TROUBLE;
  else if (serverMessage !== "") message = withFullStop(serverMessage);
  else message = PLAIN_WORDS[status] ?? `The request failed (status ${status}). Please try again.`;
  return new ApiError(status, code, message, details);
}

function withFullStop(text: string): string {
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "NETWORK", "Could not reach the site. Check your connection and try again.");
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) throw failureOf(response.status, parsed);
  return parsed as T;
}

export const auth = {
  async session(): Promise<Session | null> {
    const answer = await call<Session | null>("GET", "/api/auth/get-session");
    return answer?.user ? answer : null;
  },
  signUp: (name: string, email: string, password: string) =>
    call<unknown>("POST", "/api/auth/sign-up/email", { name, email, password }),
  signIn: (email: string, password: string) => call<unknown>("POST", "/api/auth/sign-in/email", { email, password }),
  signOut: () => call<unknown>("POST", "/api/auth/sign-out", {}),
};

const taskPath = (id: TaskId) => `/api/tasks/${encodeURIComponent(String(id))}`;

export const tasks = {
  /** One page of tasks, oldest first, and how many match the filter in all. */
  list: (filter: TaskFilter, offset = 0) =>
    call<TaskList>("GET", `/api/tasks?status=${filter}&limit=${TASK_PAGE_SIZE}&offset=${offset}`),
  create: (title: string, description?: string) =>
    call<Task>("POST", "/api/tasks", description ? { title, description } : { title }),
  update: (id: TaskId, changes: Partial<Pick<Task, "title" | "description" | "completed">>) =>
    call<Task>("PATCH", taskPath(id), changes),
  remove: (id: TaskId) => call<void>("DELETE", taskPath(id)),
};

const conversationPath = (id: string | number) => `/api/conversations/${encodeURIComponent(String(id))}`;

export const chat = {
  send: (message: string, conversationId?: string | number) =>
    call<ChatReply>("POST", "/api/chat", conversationId === undefined ? { message } : { message, conversationId }),
  conversations: async (): Promise<ConversationSummary[]> => {
    const answer = await call<{ conversations: ConversationSummary[] } | ConversationSummary[]>("GET", "/api/conversations");
    return Array.isArray(answer) ? answer : answer.conversations;
  },
  conversation: (id: string | number) => call<Conversation>("GET", conversationPath(id)),
  remove: (id: string | number) => call<void>("DELETE", conversationPath(id)),
};

/** Tools whose calls change the task list, so the list must be fetched again. */
export const TASK_CHANGING_TOOLS = new Set(["add_task", "complete_task", "delete_task", "update_task"]);
