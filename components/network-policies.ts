import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { standardLabels } from "./labels";

type Rule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;
type EgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;

export interface PolicyWorkload {
    /** Selector labels of the workload's pods. */
    readonly selector: Record<string, string>;
    /** The container port it serves on. */
    readonly port: number;
}

export interface NetworkPoliciesArgs {
    /** Namespace the policies apply in. */
    readonly namespace: pulumi.Input<string>;
    /** app.kubernetes.io/instance label value. */
    readonly instance: string;
    /** The frontend pods: reachable from anywhere on their port. */
    readonly frontend: PolicyWorkload;
    /** The backend pods: reachable from the frontend (and the Ingress controller). */
    readonly backend: PolicyWorkload;
    /** In-cluster PostgreSQL, when there is one. @default undefined */
    readonly postgres?: PolicyWorkload;
    /** Namespace of the Ingress controller that routes `/api` to the backend, when an Ingress does. @default undefined */
    readonly ingressControllerNamespace?: string;
    /** TCP ports the backend may reach outside the cluster (external database, LLM API). @default [] */
    readonly backendExternalPorts?: number[];
}

/**
 * Default deny, then exactly the traffic the app needs: anyone to the
 * frontend, the frontend (and the Ingress controller) to the backend, the
 * backend to PostgreSQL, DNS for every pod, and the backend to the outside
 * ports it was configured for.
 */
export class NetworkPolicies extends pulumi.ComponentResource {
    /** Names of the NetworkPolicies created. */
    public readonly policyNames: string[];

    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("todo-chatbot:network:NetworkPolicies", name, {}, opts);
        const externalPorts = [...new Set(args.backendExternalPorts ?? [])].sort((a, b) => a - b);
        this.policyNames = [];

        const policy = (suffix: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) => {
            const policyName = `todo-chatbot-${suffix}`;
            this.policyNames.push(policyName);
            return new k8s.networking.v1.NetworkPolicy(
                `${name}-${suffix}`,
                {
                    metadata: {
                        name: policyName,
                        namespace: args.namespace,
                        labels: standardLabels({ name: policyName, instance: args.instance, component: "network-policy" }),
                    },
                    spec,
                },
                { parent: this },
            );
        };
        const tcp = (port: number) => ({ protocol: "TCP", port });
        const from = (w: PolicyWorkload) => ({ podSelector: { matchLabels: w.selector } });

        policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        // Port-only, any destination: cluster DNS may be CoreDNS pods or a node-local cache address.
        policy("allow-dns", {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [{ ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] }],
        });

        policy("frontend", {
            podSelector: { matchLabels: args.frontend.selector },
            policyTypes: ["Ingress", "Egress"],
            // NodePort and Ingress traffic arrives from node or controller addresses: open to all, on the app port only.
            ingress: [{ ports: [tcp(args.frontend.port)] }],
            egress: [{ to: [from(args.backend)], ports: [tcp(args.backend.port)] }],
        });

        const backendIngress: Rule[] = [{ from: [from(args.frontend)], ports: [tcp(args.backend.port)] }];
        if (args.ingressControllerNamespace) {
            backendIngress.push({
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.ingressControllerNamespace } } }],
                ports: [tcp(args.backend.port)],
            });
        }
        const backendEgress: EgressRule[] = [];
        if (args.postgres) backendEgress.push({ to: [from(args.postgres)], ports: [tcp(args.postgres.port)] });
        if (externalPorts.length > 0) {
            backendEgress.push({
                to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
                ports: externalPorts.map(tcp),
            });
        }
        policy("backend", {
            podSelector: { matchLabels: args.backend.selector },
            policyTypes: ["Ingress", "Egress"],
            ingress: backendIngress,
            egress: backendEgress,
        });

        if (args.postgres) {
            policy("postgres", {
                podSelector: { matchLabels: args.postgres.selector },
                policyTypes: ["Ingress", "Egress"],
                ingress: [{ from: [from(args.backend)], ports: [tcp(args.postgres.port)] }],
                egress: [],
            });
        }

        this.registerOutputs({ policyNames: this.policyNames });
    }
}

/**
 * TCP ports the backend must reach outside the cluster: the external
 * database's port and the LLM API's (443 unless a base URL says otherwise).
 */
export function backendExternalPorts(opts: {
    /** The database is outside the cluster. */
    externalDatabase: boolean;
    /** Its URL, when known (not with an existing Secret): only the port is read. */
    externalDatabaseUrl?: string;
    llmProvider: string;
    llmBaseUrl?: string;
}): number[] {
    const ports: number[] = [];
    const portOf = (url: string, fallback: number) => {
        try {
            const u = new URL(url);
            return u.port ? Number(u.port) : u.protocol === "http:" ? 80 : fallback;
        } catch {
            return fallback;
        }
    };
    if (opts.externalDatabase) ports.push(opts.externalDatabaseUrl ? portOf(opts.externalDatabaseUrl, 5432) : 5432);
    if (opts.llmProvider !== "builtin") ports.push(opts.llmBaseUrl ? portOf(opts.llmBaseUrl, 443) : 443);
    return [...new Set(ports)].sort((a, b) => a - b);
}
