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
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The session is gone or never existed: the user has to sign in (again). */
  get signedOut(): boolean {
    return this.status === 401;
  }
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

/** Picks a message a person can act on from whatever the backend answered. */
function describeFailure(status: number, body: unknown): { code: string; message: string } {
  // The API's shape is { error: { code, message } }; Better Auth answers { code, message }.
  const detail =
    typeof body === "object" && body !== null
      ? ((body as { error?: unknown }).error ?? body)
      : undefined;
  const code =
    typeof detail === "object" && detail !== null && typeof (detail as { code?: unknown }).code === "string"
      ? (detail as { code: string }).code
      : `HTTP_${status}`;
  const serverMessage =
    typeof detail === "object" && detail !== null && typeof (detail as { message?: unknown }).message === "string"
      ? (detail as { message: string }).message.trim()
      : "";

  // The proxy's own 502 message is written for people; other 5xx texts are for operators.
  if (code === "BACKEND_UNAVAILABLE" && serverMessage !== "") return { code, message: serverMessage };
  if (status >= 500) return { code, message: SERVER_TROUBLE };
  if (serverMessage !== "") return { code, message: withFullStop(serverMessage) };
  return { code, message: PLAIN_WORDS[status] ?? `The request failed (status ${status}). Please try again.` };
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
  if (!response.ok) {
    const { code, message } = describeFailure(response.status, parsed);
    throw new ApiError(response.status, code, message);
  }
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
  list: (filter: TaskFilter) => call<TaskList>("GET", `/api/tasks?status=${filter}`),
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
