"use client";

import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { messageOf, tasks as tasksApi } from "@/lib/api";
import { DESCRIPTION_MAX, TITLE_MAX, type Task } from "@/lib/types";

import { Field } from "./Field";

interface TaskItemProps {
  readonly task: Task;
  /** Called after this task changed on the server, to fetch the list again. */
  readonly onChanged: () => Promise<void>;
  readonly onUnauthorised: (failure: unknown) => boolean;
  /** Called once this task is deleted, so focus can move somewhere that still exists. */
  readonly onRemoved: () => void;
}

/** Due dates are calendar days ("2026-11-30"): shown as that day wherever the reader is. */
function formatDate(day: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return day;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** Every task has a priority, "medium" unless chosen; only the others say something. */
function notable(priority: string | null): boolean {
  return priority !== null && priority !== "medium";
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function TaskItem({ task, onChanged, onUnauthorised, onRemoved }: TaskItemProps) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description ?? "");
  const [busy, setBusy] = useState(false);
  // The box flips at once; the server's answer then confirms it (or it flips back).
  const [completing, setCompleting] = useState<boolean | null>(null);
  const completed = completing ?? task.completed;
  const [error, setError] = useState<string | null>(null);
  const base = `task-${task.id}`;
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);

  // Closing the editor removes the focused field: give focus back to where editing began.
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  async function run(action: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await action();
      await onChanged();
      return true;
    } catch (failure) {
      if (!onUnauthorised(failure)) setError(messageOf(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function toggle(done: boolean) {
    setCompleting(done);
    await run(() => tasksApi.update(task.id, { completed: done }));
    setCompleting(null);
  }

  function startEditing() {
    setTitle(task.title);
    setDescription(task.description ?? "");
    setError(null);
    setEditing(true);
  }

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (title.trim() === "") {
      setError("A task needs a title.");
      return;
    }
    const saved = await run(() =>
      tasksApi.update(task.id, { title: title.trim(), description: description.trim() === "" ? null : description.trim() }),
    );
    // On failure the form stays open with what was typed.
    if (saved) setEditing(false);
  }

  function cancelOnEscape(event: KeyboardEvent<HTMLFormElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      setEditing(false);
      setError(null);
    }
  }

  if (editing) {
    return (
      <li className="task editing">
        <form onSubmit={save} onKeyDown={cancelOnEscape} className="stack" aria-label={`Edit task ${task.title}`}>
          <Field
            id={`${base}-title`}
            label="Title"
            value={title}
            maxLength={TITLE_MAX}
            autoFocus
            onChange={(e) => setTitle(e.target.value)}
          />
          <div className="field">
            <label htmlFor={`${base}-description`}>Description</label>
            <textarea
              id={`${base}-description`}
              rows={2}
              maxLength={DESCRIPTION_MAX}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
          </div>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <div className="row">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? "Saving…" : "Save"}
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li className={completed ? "task done" : "task"}>
      <input
        type="checkbox"
        id={`${base}-done`}
        checked={completed}
        disabled={busy}
        onChange={(event) => void toggle(event.target.checked)}
      />
      <div className="task-body">
        <label htmlFor={`${base}-done`} className="task-title">
          {task.title}
        </label>
        {task.description && <p className="task-description">{task.description}</p>}
        {(notable(task.priority) || task.dueDate) && (
          <p className="task-meta">
            {notable(task.priority) && (
              <span className={`priority priority-${task.priority}`}>{capitalise(task.priority!)} priority</span>
            )}
            {task.dueDate && <span>Due {formatDate(task.dueDate)}</span>}
          </p>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </div>
      <div className="task-actions">
        <button type="button" ref={editButton} className="ghost" onClick={startEditing} aria-label={`Edit ${task.title}`}>
          Edit
        </button>
        <button
          type="button"
          className="ghost danger"
          disabled={busy}
          onClick={async () => {
            if (await run(() => tasksApi.remove(task.id))) onRemoved();
          }}
          aria-label={`Delete ${task.title}`}
        >
          Delete
        </button>
      </div>
    </li>
  );
}
