import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { standardLabels } from "./labels";

export interface IngressBackend {
    /** Service name. */
    readonly serviceName: pulumi.Input<string>;
    /** Service port number. */
    readonly port: number;
}

export interface AppIngressArgs {
    /** Namespace of the Ingress. */
    readonly namespace: pulumi.Input<string>;
    /** app.kubernetes.io/instance label value. */
    readonly instance: string;
    /** Name of the Ingress. @default "todo-chatbot" */
    readonly ingressName?: string;
    /** IngressClass. @default "nginx" */
    readonly className?: string;
    /** Host the app is served on. @default "todo.local" */
    readonly host?: string;
    /** TLS Secret (kubernetes.io/tls) for the host; unset serves plain HTTP. @default undefined */
    readonly tlsSecretName?: string;
    /** Extra annotations, e.g. cert-manager's cluster-issuer. @default {} */
    readonly annotations?: Record<string, string>;
    /** Where `/api` and `/mcp` go. */
    readonly backend: IngressBackend;
    /** Where everything else goes. */
    readonly frontend: IngressBackend;
}

/** One host: `/api` and `/mcp` to the backend, `/` to the frontend, optionally with TLS. */
export class AppIngress extends pulumi.ComponentResource {
    /** The URL users reach the app on. */
    public readonly url: string;

    constructor(name: string, args: AppIngressArgs, opts?: pulumi.ComponentResourceOptions) {
        super("todo-chatbot:ingress:AppIngress", name, {}, opts);
        const ingressName = args.ingressName ?? "todo-chatbot";
        const host = args.host ?? "todo.local";
        const route = (path: string, to: IngressBackend) => ({
            path,
            pathType: "Prefix",
            backend: { service: { name: to.serviceName, port: { number: to.port } } },
        });

        new k8s.networking.v1.Ingress(
            name,
            {
                metadata: {
                    name: ingressName,
                    namespace: args.namespace,
                    labels: standardLabels({ name: ingressName, instance: args.instance, component: "ingress" }),
                    annotations: {
                        ...(args.annotations ?? {}),
                        // Without a load balancer (minikube) the address never appears; the
                        // Deployments' own readiness already gates `pulumi up`.
                        "pulumi.com/skipAwait": "true",
                    },
                },
                spec: {
                    ingressClassName: args.className ?? "nginx",
                    ...(args.tlsSecretName ? { tls: [{ hosts: [host], secretName: args.tlsSecretName }] } : {}),
                    // `/mcp` is for MCP clients outside the cluster (bearer tokens; the frontend does not proxy it).
                    rules: [{ host, http: { paths: [route("/api", args.backend), route("/mcp", args.backend), route("/", args.frontend)] } }],
                },
            },
            { parent: this },
        );

        this.url = ingressUrl(host, args.tlsSecretName);
        this.registerOutputs({ url: this.url });
    }
}

/** The URL an Ingress serves: https when it has a TLS Secret. */
export function ingressUrl(host: string, tlsSecretName?: string): string {
    return `${tlsSecretName ? "https" : "http"}://${host}`;
}
