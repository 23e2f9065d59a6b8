import * as pulumi from "@pulumi/pulumi";

export interface FrontendAccessArgs {
    /** Namespace of the frontend Service. */
    readonly namespace: string;
    /** Name of the frontend Service. */
    readonly serviceName: string;
    /** Port of the frontend Service. */
    readonly servicePort: number;
    /** Type of the frontend Service. */
    readonly serviceType: "ClusterIP" | "NodePort" | "LoadBalancer";
    /** Its node port, when it has one. */
    readonly nodePort: pulumi.Input<number | undefined>;
    /** The Ingress URL, when there is an Ingress. */
    readonly ingressUrl?: string;
    /** The minikube profile, on a minikube stack. */
    readonly minikubeProfile?: string;
}

/** How a person reaches the frontend: a URL when one is known, otherwise the command that gives one. */
export function frontendAccess(args: FrontendAccessArgs): pulumi.Output<{ url?: string; nodePort?: number; command?: string }> {
    return pulumi.output(args.nodePort).apply((nodePort) => {
        if (args.ingressUrl) return { url: args.ingressUrl };
        const ns = `-n ${args.namespace}`;
        if (args.minikubeProfile && args.serviceType !== "ClusterIP") {
            const profile = args.minikubeProfile === "minikube" ? "" : ` -p ${args.minikubeProfile}`;
            return { nodePort, command: `minikube service${profile} ${args.serviceName} ${ns} --url` };
        }
        return {
            ...(nodePort ? { nodePort } : {}),
            command: `kubectl port-forward ${ns} svc/${args.serviceName} 8080:${args.servicePort}  # then open http://localhost:8080`,
        };
    });
}
