"use client";

import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { ApiError, chat, messageOf, TASK_CHANGING_TOOLS } from "@/lib/api";
import { MESSAGE_MAX, type ChatMessage, type ConversationSummary, type ToolCall } from "@/lib/types";

import { ToolCallList } from "./ToolCallList";

type ConversationId = string | number;

/** A message on screen; `pending` until the backend has answered it. */
type Shown = ChatMessage & { pending?: boolean };

const SUGGESTIONS = ["add buy milk", "show my pending tasks", "complete buy milk"];

interface ChatPanelProps {
  /** Called after the assistant changed tasks, so the task list can refresh. */
  readonly onTasksChanged: () => void;
  readonly onUnauthorised: (failure: unknown) => boolean;
}

function conversationLabel(conversation: ConversationSummary): string {
  if (conversation.title && conversation.title.trim() !== "") return conversation.title;
  const date = new Date(conversation.updatedAt ?? conversation.createdAt);
  return Number.isNaN(date.getTime())
    ? `Conversation ${conversation.id}`
    : `Conversation of ${date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`;
}

let localIds = 0;
const localId = () => `local-${++localIds}`;

export function ChatPanel({ onTasksChanged, onUnauthorised }: ChatPanelProps) {
  const [conversations, setConversations] = useState<ConversationSummary[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [current, setCurrent] = useState<ConversationId | undefined>(undefined);
  const [messages, setMessages] = useState<Shown[]>([]);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const [sending, setSending] = useState(false);
  const [sendError, setSendError] = useState<string | null>(null);
  // What the assistant had already done when a turn failed, so nobody repeats it unknowingly.
  const [doneBeforeFailure, setDoneBeforeFailure] = useState<ToolCall[]>([]);
  const logRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);

  const loadConversations = useCallback(async () => {
    try {
      setConversations(await chat.conversations());
      setListError(null);
    } catch (failure) {
      if (!onUnauthorised(failure)) setListError(messageOf(failure));
    }
  }, [onUnauthorised]);

  useEffect(() => {
    void loadConversations();
  }, [loadConversations]);

  // Keep the newest message in view.
  useEffect(() => {
    const log = logRef.current;
    if (log) log.scrollTop = log.scrollHeight;
  }, [messages]);

  async function open(id: ConversationId) {
    setCurrent(id);
    setMessages([]);
    setHistoryError(null);
    setSendError(null);
    setDoneBeforeFailure([]);
    try {
      const conversation = await chat.conversation(id);
      setMessages(conversation.messages);
    } catch (failure) {
      if (!onUnauthorised(failure)) setHistoryError(messageOf(failure));
    }
  }

  function startNew() {
    setCurrent(undefined);
    setMessages([]);
    setHistoryError(null);
    setSendError(null);
    setDoneBeforeFailure([]);
    inputRef.current?.focus();
  }

  async function remove(id: ConversationId) {
    try {
      await chat.remove(id);
      if (id === current) startNew();
      await loadConversations();
    } catch (failure) {
      if (!onUnauthorised(failure)) setListError(messageOf(failure));
    }
  }

  async function send(text: string) {
    const message = text.trim();
    if (message === "" || sending) return;
    const pending: Shown = { id: localId(), role: "user", content: message, pending: true };
    setMessages((shown) => [...shown, pending]);
    setDraft("");
    setSending(true);
    setSendError(null);
    setDoneBeforeFailure([]);
    try {
      const answer = await chat.send(message, current);
      setCurrent(answer.conversationId);
      setMessages((shown) => [
        ...shown.map((m) => (m.id === pending.id ? { ...m, pending: false } : m)),
        { id: localId(), role: "assistant", content: answer.reply, toolCalls: answer.toolCalls },
      ]);
      if (answer.toolCalls.some((call: ToolCall) => TASK_CHANGING_TOOLS.has(call.tool))) onTasksChanged();
      if (current === undefined) void loadConversations();
    } catch (failure) {
      // Give the text back so nothing typed is lost.
      setDraft((now) => (now === "" ? message : now));
      if (onUnauthorised(failure)) return;
      setSendError(messageOf(failure));
      if (!(failure instanceof ApiError) || failure.conversationId === undefined) {
        setMessages((shown) => shown.filter((m) => m.id !== pending.id));
        return;
      }
      // The backend kept the message in a conversation (a new one, if this was
      // the first): a retry continues it, and the screen shows what it stored.
      const savedIn = failure.conversationId;
      const done = failure.toolCalls;
      setDoneBeforeFailure(done);
      if (done.some((call) => TASK_CHANGING_TOOLS.has(call.tool))) onTasksChanged();
      setCurrent(savedIn);
      if (current === undefined) void loadConversations();
      try {
        setMessages((await chat.conversation(savedIn)).messages);
      } catch {
        setMessages((shown) => shown.filter((m) => m.id !== pending.id));
      }
    } finally {
      setSending(false);
      inputRef.current?.focus();
    }
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void send(draft);
  }

  function sendOnEnter(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void send(draft);
    }
  }

  return (
    <section className="panel chat" aria-labelledby="chat-heading">
      <div className="panel-head">
        <h2 id="chat-heading">Assistant</h2>
        <button type="button" onClick={startNew}>
          New conversation
        </button>
      </div>

      <nav className="conversations" aria-labelledby="conversations-heading">
        <h3 id="conversations-heading">Conversations</h3>
        {listError && (
          <p className="error" role="alert">
            {listError}
          </p>
        )}
        {conversations !== null && conversations.length === 0 && <p className="hint">No earlier conversations.</p>}
        {conversations !== null && conversations.length > 0 && (
          <ul>
            {conversations.map((conversation) => {
              const label = conversationLabel(conversation);
              const selected = conversation.id === current;
              return (
                <li key={conversation.id} className={selected ? "selected" : undefined}>
                  <button
                    type="button"
                    className="conversation-open"
                    aria-current={selected ? "true" : undefined}
                    onClick={() => void open(conversation.id)}
                  >
                    {label}
                  </button>
                  <button
                    type="button"
                    className="ghost danger icon"
                    aria-label={`Delete ${label}`}
                    title="Delete conversation"
                    onClick={() => void remove(conversation.id)}
                  >
                    ×
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </nav>

      <ol className="messages" ref={logRef} role="log" aria-label="Messages" aria-live="polite">
        {messages.length === 0 && !historyError && (
          <li className="empty">
            <p>Ask me to add, list, complete, update or delete tasks. Try:</p>
            <div className="suggestions">
              {SUGGESTIONS.map((suggestion) => (
                <button key={suggestion} type="button" className="chip" onClick={() => setDraft(suggestion)}>
                  {suggestion}
                </button>
              ))}
            </div>
          </li>
        )}
        {historyError && (
          <li className="error" role="alert">
            {historyError}
          </li>
        )}
        {messages.map((message) => (
          <li key={message.id} className={`message ${message.role}${message.pending ? " pending" : ""}`}>
            <span className="visually-hidden">{message.role === "user" ? "You said:" : "Assistant said:"}</span>
            <p className="bubble">{message.content}</p>
            {message.toolCalls && message.toolCalls.length > 0 && <ToolCallList calls={message.toolCalls} />}
          </li>
        ))}
        {sending && (
          <li className="message assistant typing" role="status">
            Thinking…
          </li>
        )}
      </ol>

      <form className="composer" onSubmit={submit}>
        <label htmlFor="chat-input" className="visually-hidden">
          Message to the assistant
        </label>
        <textarea
          id="chat-input"
          ref={inputRef}
          rows={2}
          maxLength={MESSAGE_MAX}
          placeholder="Message the assistant…"
          value={draft}
          aria-describedby={sendError ? "chat-keys chat-error" : "chat-keys"}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={sendOnEnter}
        />
        <p id="chat-keys" className="visually-hidden">
          Enter sends the message; Shift+Enter starts a new line.
        </p>
        <button type="submit" className="primary" disabled={sending || draft.trim() === ""}>
          {sending ? "Sending…" : "Send"}
        </button>
      </form>
      {sendError && (
        <div id="chat-error" className="error" role="alert">
          <p>{sendError}</p>
          {doneBeforeFailure.length > 0 && (
            <>
              <p>Before that, the assistant had already done this:</p>
              <ToolCallList calls={doneBeforeFailure} />
            </>
          )}
        </div>
      )}
    </section>
  );
}
