import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { standardLabels } from "./labels";

export interface NamespaceArgs {
    /** The namespace name (a DNS-1123 label). */
    readonly name: string;
    /** app.kubernetes.io/instance label value (the stack name). */
    readonly instance: string;
    /** Protect the namespace (and so everything in it) from `pulumi destroy`. @default false */
    readonly protect?: boolean;
}

/**
 * The application's namespace, with Pod Security Admission enforcing the
 * `restricted` profile so that no pod weaker than that can run in it.
 */
export class Namespace extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: NamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("todo-chatbot:namespace:Namespace", name, {}, opts);
        const protect = args.protect ?? false;

        const ns = new k8s.core.v1.Namespace(
            name,
            {
                metadata: {
                    name: args.name,
                    labels: {
                        ...standardLabels({ name: args.name, instance: args.instance, component: "namespace" }),
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/enforce-version": "latest",
                        "pod-security.kubernetes.io/audit": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                },
            },
            { parent: this, protect },
        );

        this.name = ns.metadata.name;
        this.registerOutputs({ name: this.name });
    }
}
