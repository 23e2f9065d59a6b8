"use client";

import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from "react";

import { messageOf, tasks as tasksApi } from "@/lib/api";
import { TITLE_MAX, type Task, type TaskFilter } from "@/lib/types";

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
  const titleInput = useRef<HTMLInputElement>(null);

  const reload = useCallback(async () => {
    try {
      const answer = await tasksApi.list(filter);
      setList(answer.tasks);
      setTotal(answer.total);
      setLoadError(null);
    } catch (failure) {
      if (!onUnauthorised(failure)) setLoadError(messageOf(failure));
    }
  }, [filter, onUnauthorised]);

  useEffect(() => {
    void reload();
  }, [reload, version]);

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
        <ul className="task-list" aria-label={`${FILTERS.find((f) => f.value === filter)?.label} tasks`}>
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
    </section>
  );
}
