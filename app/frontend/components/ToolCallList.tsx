import type { ToolCall } from "@/lib/types";

/** A short hint of what a call was about: the task title or id it named. */
function subject(call: ToolCall): string {
  const args = call.arguments ?? {};
  const named = args.title ?? args.task_id ?? args.status;
  return named === undefined || named === null ? "" : String(named);
}

function failed(call: ToolCall): boolean {
  const result = call.result;
  return typeof result === "object" && result !== null && "error" in result && Boolean((result as { error: unknown }).error);
}

/** The tools the assistant used for one reply: one line each, details on demand. */
export function ToolCallList({ calls }: { readonly calls: readonly ToolCall[] }) {
  return (
    <ul className="tool-calls" aria-label="Actions the assistant took">
      {calls.map((call, index) => {
        const hint = subject(call);
        const bad = failed(call);
        return (
          <li key={index} className={bad ? "tool-call failed" : "tool-call"}>
            <details>
              <summary>
                <span aria-hidden="true">{bad ? "✗" : "✓"}</span> <code>{call.tool}</code>
                {hint && <span className="tool-subject"> {hint}</span>}
                <span className="visually-hidden">{bad ? " (failed)" : " (done)"}</span>
              </summary>
              <pre>{JSON.stringify({ arguments: call.arguments, result: call.result }, null, 2)}</pre>
            </details>
          </li>
        );
      })}
    </ul>
  );
}
