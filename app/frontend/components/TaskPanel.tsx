"use client";

import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from "react";

import { messageOf, tasks as tasksApi } from "@/lib/api";
import { TASK_PAGE_SIZE, TITLE_MAX, type Task, type TaskFilter } from "@/lib/types";

import { TaskItem } from "./TaskItem";

const FILTERS: { value: TaskFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "completed", label: "Completed" },
];

const EMPTY_TEXT: Record<TaskFilter, string> = {
  all: "No tasks yet. Add one above, or ask the assistant to add it for you.",
  pending: "Nothing pending. Nice work!",
  completed: "No completed tasks yet.",
};

interface TaskPanelProps {
  /** Changes whenever tasks were changed elsewhere (by the chat) and must be fetched again. */
  readonly version: number;
  /** Handles a signed-out failure; returns true when it did. */
  readonly onUnauthorised: (failure: unknown) => boolean;
}

export function TaskPanel({ version, onUnauthorised }: TaskPanelProps) {
  const filterName = useId();
  const [filter, setFilter] = useState<TaskFilter>("all");
  const [list, setList] = useState<Task[] | null>(null);
  const [total, setTotal] = useState(0);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [title, setTitle] = useState("");
  const [adding, setAdding] = useState(false);
  const [addError, setAddError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const titleInput = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  // How many tasks are on screen, for which filter, and whether that was all of
  // them: a refresh after a change fetches as many again (all, if all were
  // shown, so a task just added appears) instead of falling back to one page.
  const shown = useRef<{ filter: TaskFilter; count: number; all: boolean }>({ filter, count: 0, all: false });
  // The position of the first task "Show more" brought, which gets the focus.
  const [focusFrom, setFocusFrom] = useState<number | null>(null);

  const reload = useCallback(async () => {
    const same = shown.current.filter === filter;
    const wanted = !same ? TASK_PAGE_SIZE : shown.current.all ? Infinity : Math.max(shown.current.count, TASK_PAGE_SIZE);
    try {
      let tasks: Task[] = [];
      let total = 0;
      // Pages of at most TASK_PAGE_SIZE (the backend's cap) until the wanted number or the end.
      for (;;) {
        const before = tasks.length;
        const page = await tasksApi.list(filter, before);
        tasks = withoutRepeats(tasks, page.tasks);
        total = page.total;
        if (tasks.length === before || tasks.length >= Math.min(wanted, total)) break;
      }
      shown.current = { filter, count: tasks.length, all: tasks.length >= total };
      setList(tasks);
      setTotal(total);
      setLoadError(null);
      setMoreError(null);
    } catch (failure) {
      if (!onUnauthorised(failure)) setLoadError(messageOf(failure));
    }
  }, [filter, onUnauthorised]);

  useEffect(() => {
    void reload();
  }, [reload, version]);

  async function showMore() {
    if (list === null) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await tasksApi.list(filter, list.length);
      const tasks = withoutRepeats(list, page.tasks);
      shown.current = { filter, count: tasks.length, all: tasks.length >= page.total };
      setList(tasks);
      setTotal(page.total);
      if (tasks.length > list.length) setFocusFrom(list.length);
    } catch (failure) {
      if (!onUnauthorised(failure)) setMoreError(messageOf(failure));
    } finally {
      setLoadingMore(false);
    }
  }

  // Keyboard and screen-reader users carry on reading where the new tasks begin.
  useEffect(() => {
    if (focusFrom === null) return;
    listRef.current?.querySelectorAll<HTMLElement>(":scope > li")[focusFrom]?.querySelector<HTMLElement>("input, button")?.focus();
    setFocusFrom(null);
  }, [focusFrom, list]);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = title.trim();
    if (trimmed === "") {
      setAddError("Type what the task is before adding it.");
      return;
    }
    setAdding(true);
    setAddError(null);
    try {
      await tasksApi.create(trimmed);
      // Cleared only on success, so a failed add keeps what was typed.
      setTitle("");
      await reload();
    } catch (failure) {
      if (!onUnauthorised(failure)) setAddError(messageOf(failure));
    } finally {
      setAdding(false);
    }
  }

  return (
    <section className="panel tasks" aria-labelledby="tasks-heading">
      <div className="panel-head">
        <h2 id="tasks-heading">Tasks</h2>
        {list && (
          <span className="count" aria-live="polite">
            {total} {total === 1 ? "task" : "tasks"}
          </span>
        )}
      </div>

      <form className="add-task" onSubmit={add} noValidate>
        <label htmlFor="new-task-title" className="visually-hidden">
          New task
        </label>
        <input
          id="new-task-title"
          ref={titleInput}
          name="title"
          placeholder="Add a task…"
          autoComplete="off"
          maxLength={TITLE_MAX}
          value={title}
          aria-invalid={addError ? true : undefined}
          aria-describedby={addError ? "add-task-error" : undefined}
          onChange={(event) => setTitle(event.target.value)}
        />
        <button type="submit" className="primary" disabled={adding}>
          {adding ? "Adding…" : "Add"}
        </button>
      </form>
      {addError && (
        <p id="add-task-error" className="error" role="alert">
          {addError}
        </p>
      )}

      <fieldset className="filters">
        <legend className="visually-hidden">Show</legend>
        {FILTERS.map(({ value, label }) => (
          <label key={value} className={filter === value ? "chip selected" : "chip"}>
            <input
              type="radio"
              name={filterName}
              value={value}
              checked={filter === value}
              onChange={() => setFilter(value)}
            />
            {label}
          </label>
        ))}
      </fieldset>

      {loadError && (
        <div className="error" role="alert">
          <p>{loadError}</p>
          <button type="button" onClick={() => void reload()}>
            Try again
          </button>
        </div>
      )}

      {list === null && !loadError && <p role="status">Loading tasks…</p>}
      {list !== null && list.length === 0 && <p className="empty">{EMPTY_TEXT[filter]}</p>}
      {list !== null && list.length > 0 && (
        <ul ref={listRef} className="task-list" aria-label={`${FILTERS.find((f) => f.value === filter)?.label} tasks`}>
          {list.map((task) => (
            <TaskItem
              key={task.id}
              task={task}
              onChanged={reload}
              onUnauthorised={onUnauthorised}
              onRemoved={() => titleInput.current?.focus()}
            />
          ))}
        </ul>
      )}
      {list !== null && list.length < total && (
        <div className="more">
          <p id="tasks-shown" className="hint">
            Showing {list.length} of {total}.
          </p>
          <button type="button" onClick={() => void showMore()} disabled={loadingMore} aria-describedby="tasks-shown">
            {loadingMore ? "Loading…" : `Show ${Math.min(TASK_PAGE_SIZE, total - list.length)} more`}
          </button>
        </div>
      )}
      {moreError && (
        <p className="error" role="alert">
          {moreError}
        </p>
      )}
    </section>
  );
}

/** Appends a page, leaving out tasks already listed (a change between two pages shifts them). */
function withoutRepeats(listed: Task[], page: Task[]): Task[] {
  const known = new Set(listed.map((task) => task.id));
  return [...listed, ...page.filter((task) => !known.has(task.id))];
}
