// One source for the recommended app.kubernetes.io labels. Selectors use the
// stable subset (name, instance, component) so that a new version or image tag
// never changes a selector, which Kubernetes does not allow to change.

export const PART_OF = "todo-chatbot";

export interface LabelArgs {
    /** app.kubernetes.io/name, e.g. "todo-backend". */
    readonly name: string;
    /** app.kubernetes.io/instance: which installation (the stack name). */
    readonly instance: string;
    /** app.kubernetes.io/component, e.g. "backend", "database". */
    readonly component: string;
    /** app.kubernetes.io/version, e.g. the image tag; omitted when unknown. */
    readonly version?: string;
}

export function selectorLabels(args: LabelArgs): Record<string, string> {
    return {
        "app.kubernetes.io/name": args.name,
        "app.kubernetes.io/instance": args.instance,
        "app.kubernetes.io/component": args.component,
    };
}

export function standardLabels(args: LabelArgs): Record<string, string> {
    return {
        ...selectorLabels(args),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        ...(args.version ? { "app.kubernetes.io/version": labelValue(args.version) } : {}),
    };
}

/** Label values are at most 63 characters of [A-Za-z0-9_.-]. */
export function labelValue(text: string): string {
    return text.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}
