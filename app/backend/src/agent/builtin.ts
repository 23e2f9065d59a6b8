import type { ListedTask, TaskChange, TaskTools, ToolResult } from "./tools.js";
import type { Agent, AgentInput, AgentOutput, ChatTurn, ToolCall } from "./types.js";

/**
 * The default chat agent: a deterministic intent parser for everyday English
 * that drives the same five tools a language model would. It needs no API key,
 * answers in microseconds and always gives the same reply to the same history.
 */

export type TaskRef = { kind: "id"; id: number } | { kind: "text"; text: string } | { kind: "previous" };

export type Intent =
  | { kind: "greet" }
  | { kind: "thanks" }
  | { kind: "help" }
  | { kind: "add"; title: string; description?: string }
  | { kind: "list"; status: "all" | "pending" | "completed" }
  | { kind: "complete"; ref: TaskRef }
  | { kind: "delete"; ref: TaskRef }
  | { kind: "update"; ref: TaskRef; title?: string; description?: string }
  | { kind: "unknown" };

type Action = "complete" | "delete" | "update";

/** Stored with a clarifying question so the next message ("3", "the second one") can answer it. */
interface PendingChoice {
  action: Action;
  candidates: { id: number; title: string }[];
  title?: string;
  description?: string;
}

/** What a reply leaves for the next turn, stored with it (so any replica can continue). */
interface BuiltinState {
  pending?: PendingChoice;
  /** The task this reply acted on, for "mark it done" next. */
  lastTask?: { id: number; title: string };
}

export const CAPABILITIES =
  'I can add tasks ("add buy milk", "remind me to call mom"), show them ("what\'s still pending?", ' +
  '"show completed tasks"), complete them ("mark task 3 done", "complete the milk one"), delete them ' +
  '("delete task 2") and rename them ("rename task 1 to call dad").';

const QUOTES = /^["'“”‘’`]+|["'“”‘’`]+$/g;

function stripQuotes(text: string): string {
  return text.replace(QUOTES, "").trim();
}

/** Drops politeness and filler so the patterns below only see the request itself. */
function clean(message: string): string {
  let text = message
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.!?…]+$/u, "")
    .trim();
  let previous;
  do {
    previous = text;
    text = text
      .replace(/^(?:please|pls|kindly|ok(?:ay)?|so|um+|uh+|hey|yo|now|and|also|then)\b[,\s]*/i, "")
      .replace(/^(?:can|could|would|will) you(?: please)?\s+/i, "")
      .replace(/^i(?:'d| would) like (?:you )?to\s+/i, "")
      .replace(/[,\s]+(?:please|pls|thanks|thank you|for me|now)$/i, "")
      .trim();
  } while (text !== previous);
  return text;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function tidyTitle(raw: string): string {
  const title = stripQuotes(
    raw
      .replace(/^(?:to|on|onto|in)?\s*(?:my|the)\s+(?:todo |to-do |task )?list\s*:?\s*/i, "")
      .replace(/\s+(?:to|on|onto|in)\s+(?:my|the)\s+(?:todo |to-do |task )?(?:list|tasks)$/i, ""),
  );
  return capitalize(title);
}

function splitDescription(text: string): { title: string; description?: string } {
  const match = /^(.+?)\s*(?:,\s*)?(?:with|and)\s+(?:the\s+|a\s+)?(?:description|note|details?)\s*:?\s*(.+)$/i.exec(
    text,
  );
  if (!match) return { title: tidyTitle(text) };
  return { title: tidyTitle(match[1]!), description: stripQuotes(match[2]!) };
}

export function parseRef(raw: string): TaskRef {
  let text = stripQuotes(raw.trim()).replace(/\s+(?:from|off|on) (?:my|the) (?:todo |to-do |task )?list$/i, "");
  const id = /^(?:(?:task|todo|to-do|item)\s*)?(?:(?:number|no\.?|id)\s*)?#?\s*(\d+)$/i.exec(text);
  if (id) return { kind: "id", id: Number(id[1]) };
  if (/^(?:it|that|this|them|that one|this one|that task|this task|the last one|the one i just added)$/i.test(text)) {
    return { kind: "previous" };
  }
  text = text
    .replace(/^(?:the|my|a|an)\s+/i, "")
    .replace(/^(?:task|todo|to-do|item|one)\s+/i, "")
    .replace(/^(?:about|called|named|titled|for|with)\s+/i, "")
    .replace(/\s+(?:task|one|item|todo|to-do|thing)$/i, "");
  return { kind: "text", text: stripQuotes(text) };
}

const STATUS_WORDS = "(?:as\\s+)?(?:done|complete|completed|finished)";

const UPDATE_RULES: { pattern: RegExp; field: "title" | "description" }[] = [
  { pattern: /^(?:rename|retitle)\s+(.+?)\s+(?:to|as|into)\s+(.+)$/i, field: "title" },
  {
    pattern:
      /^(?:change|update|edit|set|replace)\s+(?:the\s+)?(?:description|note|details)\s+(?:of|for|on)\s+(.+?)\s+(?:to|with)\s+(.+)$/i,
    field: "description",
  },
  {
    pattern: /^(?:change|update|edit|set)\s+(.+?)(?:'s)?\s+(?:description|note|details)\s+(?:to|as)\s+(.+)$/i,
    field: "description",
  },
  {
    pattern: /^(?:change|update|edit|set)\s+(?:the\s+)?(?:title|name)\s+(?:of|for|on)\s+(.+?)\s+(?:to|as)\s+(.+)$/i,
    field: "title",
  },
  { pattern: /^(?:change|update|edit)\s+(.+?)(?:'s)?(?:\s+(?:title|name))?\s+to\s+(.+)$/i, field: "title" },
];

const COMPLETE_RULES = [
  new RegExp(`^(?:mark|set|flag)\\s+(.+?)\\s+${STATUS_WORDS}$`, "i"),
  /^(?:complete|finish|check off|tick off|cross off|close)\s+(.+)$/i,
  /^(?:i\s+)?(?:'ve\s+|have\s+)?(?:just\s+|already\s+)?(?:finished|completed|done with|did)\s+(.+)$/i,
  new RegExp(`^(.+?)\\s+(?:is|are)\\s+(?:now\\s+|all\\s+)?${STATUS_WORDS}$`, "i"),
];

const DELETE_RULE = /^(?:delete|remove|erase|drop|cancel|trash|discard|scrap|get rid of|forget about|forget)\s+(.+)$/i;

const ADD_RULES = [
  /^(?:add|create|make|put|start)\s+(?:(?:a|an)\s+)?(?:new\s+)?(?:task|todo|to-do|item|reminder|entry)\s*(?:(?:to|called|named|titled|for|that says)\s+|:\s*|-\s*)?(.+)$/i,
  /^new\s+(?:task|todo|to-do|item|reminder)\s*(?:(?:to|called|named|titled|for)\s+|:\s*|-\s*)?(.+)$/i,
  /^(?:add|put)\s+(.+)$/i,
  /^remind me (?:to|about|of)\s+(.+)$/i,
  /^(?:remember|don'?t (?:let me )?forget|do not (?:let me )?forget)\s+to\s+(.+)$/i,
  /^(?:todo|to-do|task|reminder)\s*:\s*(.+)$/i,
];

const WISH_RULE = /^i\s+(?:need|have|want|must|should|gotta|got|ought)\s+to\s+(.+)$/i;

const LIST_ASK =
  /^(?:show|list|display|view|see|get|give|tell|what|what's|whats|which|do i|have i|how many|check|any|my|all)\b/i;
const LIST_SUBJECT =
  /\b(?:tasks?|todos?|to-?dos?|list|things|items|agenda|plate|pending|left|remaining|outstanding)\b/i;
const PENDING_WORDS =
  /\b(?:pending|open|remaining|left|outstanding|incomplete|unfinished|not (?:yet )?(?:done|finished|completed)|to do|need to do|have to do|still)\b/i;
const COMPLETED_WORDS = /\b(?:completed|complete|done|finished|accomplished|checked off)\b/i;

function parseList(text: string): Intent | undefined {
  const bare = /^(?:my\s+)?(?:tasks|todos|to-?dos|to-?do list|list|agenda)$/i.test(text);
  if (
    !bare &&
    !(LIST_ASK.test(text) && (LIST_SUBJECT.test(text) || PENDING_WORDS.test(text) || COMPLETED_WORDS.test(text)))
  ) {
    return undefined;
  }
  if (/\b(?:not (?:yet )?(?:done|finished|completed)|incomplete|unfinished)\b/i.test(text))
    return { kind: "list", status: "pending" };
  if (COMPLETED_WORDS.test(text)) return { kind: "list", status: "completed" };
  if (PENDING_WORDS.test(text)) return { kind: "list", status: "pending" };
  return { kind: "list", status: "all" };
}

/** Reads one message into an intent. Pure and exported so its grammar can be tested directly. */
export function parseIntent(message: string): Intent {
  const raw = message
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[.!?…]+$/u, "");
  if (/^(?:hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening)|greetings)(?: there)?[!,.]*$/i.test(raw)) {
    return { kind: "greet" };
  }
  const text = clean(message);
  if (
    /^(?:thanks|thank you|thx|ty|cheers|great|perfect|awesome|nice|cool)(?: (?:so much|a lot|very much))?$/i.test(text)
  ) {
    return { kind: "thanks" };
  }
  if (
    text === "" ||
    /^(?:help|\?|commands|menu|what can you do|what do you do|how does this work|how do (?:i|you) use (?:this|you)|what are your commands)$/i.test(
      text,
    )
  ) {
    return { kind: "help" };
  }
  for (const { pattern, field } of UPDATE_RULES) {
    const match = pattern.exec(text);
    if (match) {
      const value = stripQuotes(match[2]!);
      return field === "title"
        ? { kind: "update", ref: parseRef(match[1]!), title: capitalize(value) }
        : { kind: "update", ref: parseRef(match[1]!), description: value };
    }
  }
  for (const pattern of COMPLETE_RULES) {
    const match = pattern.exec(text);
    if (match && !/^(?:what|which|how|show|list)\b/i.test(match[1]!))
      return { kind: "complete", ref: parseRef(match[1]!) };
  }
  const deletion = DELETE_RULE.exec(text);
  if (deletion) return { kind: "delete", ref: parseRef(deletion[1]!) };
  for (const pattern of ADD_RULES) {
    const match = pattern.exec(text);
    if (match && stripQuotes(match[1]!) !== "") return { kind: "add", ...splitDescription(match[1]!) };
  }
  const list = parseList(text);
  if (list) return list;
  const wish = WISH_RULE.exec(text);
  if (wish) return { kind: "add", ...splitDescription(wish[1]!) };
  return { kind: "unknown" };
}

function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter(Boolean);
}

/** Tasks whose title matches the phrase: an exact title wins, else every word of the phrase must appear. */
export function matchTasks(tasks: ListedTask[], phrase: string): ListedTask[] {
  const wanted = normalizeWords(phrase);
  if (wanted.length === 0) return [];
  const exact = tasks.filter((t) => normalizeWords(t.title).join(" ") === wanted.join(" "));
  if (exact.length > 0) return exact;
  return tasks.filter((task) => {
    const words = normalizeWords(task.title);
    return wanted.every((w) =>
      words.some((word) => word === w || word.startsWith(w) || (w.endsWith("s") && word === w.slice(0, -1))),
    );
  });
}

function describeTask(task: { id: number; title: string }): string {
  return `#${task.id} "${task.title}"`;
}

function formatList(tasks: ListedTask[], status: "all" | "pending" | "completed"): string {
  const noun = status === "all" ? "task" : `${status} task`;
  if (tasks.length === 0) {
    if (status === "pending") return 'You have no pending tasks. Nice work! Add one with "add buy milk".';
    if (status === "completed") return "You haven't completed any tasks yet.";
    return 'Your list is empty. Add a task with "add buy milk".';
  }
  const lines = tasks.map((t) => `- #${t.id} ${t.title}${status === "all" && t.completed ? " (done)" : ""}`);
  return `You have ${tasks.length} ${noun}${tasks.length === 1 ? "" : "s"}:\n${lines.join("\n")}`;
}

function isError(result: ToolResult): result is { error: string } {
  return !Array.isArray(result) && "error" in result;
}

const ACTION_VERBS: Record<Action, string> = { complete: "mark as done", delete: "delete", update: "change" };

/** The task a turn's tool calls acted on: the last one changed (unless deleted), or the only one listed. */
function actedOn(calls: ToolCall[]): { id: number; title: string } | undefined {
  for (const call of [...calls].reverse()) {
    const result = call.result as Partial<TaskChange> | undefined;
    if (result && typeof result.task_id === "number" && result.status !== "deleted") {
      return { id: result.task_id, title: result.title ?? "" };
    }
    if (Array.isArray(call.result) && call.result.length === 1) {
      const only = call.result[0] as ListedTask;
      return { id: only.id, title: only.title };
    }
  }
  return undefined;
}

/** What the previous reply stored, if the last message is one (a user message is left when a turn failed). */
function previousState(history: ChatTurn[]): BuiltinState {
  const last = history[history.length - 1];
  if (last?.role !== "assistant") return {};
  return (last.agentState as BuiltinState | null | undefined) ?? {};
}

const ORDINALS: Record<string, number> = {
  first: 0,
  "1st": 0,
  second: 1,
  "2nd": 1,
  third: 2,
  "3rd": 2,
  fourth: 3,
  "4th": 3,
};

/** Reads an answer to "which one did you mean?"; undefined when the message is something else. */
function chooseCandidate(message: string, choice: PendingChoice): { id: number; title: string } | "cancel" | undefined {
  const text = clean(message).toLowerCase();
  if (/^(?:no|nope|none|neither|cancel|stop|never ?mind|forget it|nothing)$/.test(text)) return "cancel";
  const id = /^(?:(?:task|number|no\.?|id)\s*)?#?\s*(\d+)$/.exec(text);
  if (id) return choice.candidates.find((c) => c.id === Number(id[1]));
  const ordinal = /^(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|last)(?:\s+(?:one|task))?$/.exec(text);
  if (ordinal) {
    const index = ordinal[1] === "last" ? choice.candidates.length - 1 : ORDINALS[ordinal[1]!]!;
    return choice.candidates[index];
  }
  const ref = parseRef(text);
  if (ref.kind !== "text") return undefined;
  const matches = matchTasks(
    choice.candidates.map((c) => ({ ...c, description: null, completed: false, priority: "medium", due_date: null })),
    ref.text,
  );
  return matches.length === 1 ? matches[0] : undefined;
}

export class BuiltinAgent implements Agent {
  readonly provider = "builtin";
  // Only the previous reply matters: its open question or the task it acted on, both in its stored state.
  readonly history = { messages: 1 };

  async respond({ history, message, tools }: AgentInput): Promise<AgentOutput> {
    const state = previousState(history);
    const choice = state.pending;
    if (choice) {
      const chosen = chooseCandidate(message, choice);
      if (chosen === "cancel") return this.reply(tools, "Okay, I won't change anything.");
      if (chosen) return this.act(tools, choice.action, chosen.id, choice);
    }
    const intent = parseIntent(message);
    switch (intent.kind) {
      case "greet":
        return this.reply(tools, `Hi! I'm your task assistant. ${CAPABILITIES}`);
      case "thanks":
        return this.reply(tools, "You're welcome! Anything else I can do for your list?");
      case "help":
        return this.reply(tools, CAPABILITIES);
      case "unknown":
        return this.reply(tools, `Sorry, I didn't understand "${message.trim()}". ${CAPABILITIES}`);
      case "add":
        return this.add(tools, intent.title, intent.description);
      case "list":
        return this.list(tools, intent.status);
      case "complete":
      case "delete":
      case "update":
        return this.resolveAndAct(tools, state, intent.kind, intent.ref, intent.kind === "update" ? intent : {});
    }
  }

  private reply(tools: TaskTools, reply: string, pending?: PendingChoice): AgentOutput {
    const lastTask = actedOn(tools.calls);
    const agentState: BuiltinState | undefined = pending || lastTask ? { pending, lastTask } : undefined;
    return { reply, toolCalls: tools.calls, agentState };
  }

  private async add(tools: TaskTools, title: string, description?: string): Promise<AgentOutput> {
    const result = await tools.call("add_task", description ? { title, description } : { title });
    if (isError(result)) return this.reply(tools, `I couldn't add that task: ${result.error}.`);
    const created = result as TaskChange;
    return this.reply(tools, `Added "${created.title}" to your list (task #${created.task_id}).`);
  }

  private async list(tools: TaskTools, status: "all" | "pending" | "completed"): Promise<AgentOutput> {
    const result = await tools.call("list_tasks", { status });
    if (isError(result)) return this.reply(tools, `I couldn't read your tasks: ${result.error}.`);
    return this.reply(tools, formatList(result as ListedTask[], status));
  }

  private async resolveAndAct(
    tools: TaskTools,
    state: BuiltinState,
    action: Action,
    ref: TaskRef,
    change: { title?: string; description?: string },
  ): Promise<AgentOutput> {
    if (ref.kind === "id") return this.act(tools, action, ref.id, change);
    if (ref.kind === "previous") {
      const task = state.lastTask;
      if (task) return this.act(tools, action, task.id, change);
      return this.reply(tools, `Which task should I ${ACTION_VERBS[action]}? Tell me its number, e.g. "task 3".`);
    }
    // Completing looks among pending tasks first: "complete the milk one" rarely means a finished one.
    const status = action === "complete" ? "pending" : "all";
    const listed = await tools.call("list_tasks", { status });
    if (isError(listed)) return this.reply(tools, `I couldn't read your tasks: ${listed.error}.`);
    const matches = matchTasks(listed as ListedTask[], ref.text);
    if (matches.length === 1) return this.act(tools, action, matches[0]!.id, change);
    if (matches.length === 0) {
      if (action === "complete") {
        const done = await tools.call("list_tasks", { status: "completed" });
        const finished = isError(done) ? [] : matchTasks(done as ListedTask[], ref.text);
        if (finished.length > 0) {
          return this.reply(tools, `${capitalize(finished.map(describeTask).join(", "))} is already done.`);
        }
      }
      return this.reply(
        tools,
        `I couldn't find a task matching "${ref.text}". Say "show my tasks" to see your list` +
          (action === "complete" ? `, or "add ${ref.text}" to create it.` : "."),
      );
    }
    const candidates = matches.map((t) => ({ id: t.id, title: t.title }));
    return this.reply(
      tools,
      `I found ${matches.length} tasks matching "${ref.text}": ${candidates.map(describeTask).join(", ")}. ` +
        `Which one should I ${ACTION_VERBS[action]}? Reply with its number.`,
      { action, candidates, title: change.title, description: change.description },
    );
  }

  private async act(
    tools: TaskTools,
    action: Action,
    taskId: number,
    change: { title?: string; description?: string },
  ): Promise<AgentOutput> {
    const args: Record<string, unknown> = { task_id: taskId };
    if (action === "update") {
      if (change.title !== undefined) args.title = change.title;
      if (change.description !== undefined) args.description = change.description;
    }
    const result = await tools.call(`${action}_task`, args);
    if (isError(result)) {
      if (/not found/i.test(result.error)) {
        return this.reply(
          tools,
          `I couldn't find task #${taskId}. Say "show my tasks" to see your tasks and their numbers.`,
        );
      }
      return this.reply(tools, `I couldn't ${ACTION_VERBS[action]} task #${taskId}: ${result.error}.`);
    }
    const task = result as TaskChange;
    switch (action) {
      case "complete":
        return this.reply(tools, `Nice work! Marked ${describeTask({ id: task.task_id, title: task.title })} as done.`);
      case "delete":
        return this.reply(tools, `Deleted ${describeTask({ id: task.task_id, title: task.title })}.`);
      case "update":
        return this.reply(
          tools,
          change.title !== undefined
            ? `Renamed task #${task.task_id} to "${task.title}".`
            : `Updated the description of ${describeTask({ id: task.task_id, title: task.title })}.`,
        );
    }
  }
}
