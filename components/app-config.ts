import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { standardLabels } from "./labels";
import { digestOf } from "./hash";
import type { LlmSettings } from "./settings";

type EnvVar = k8s.types.input.core.v1.EnvVar;

export interface AppConfigArgs {
    /** Namespace of the ConfigMap. */
    readonly namespace: pulumi.Input<string>;
    /** app.kubernetes.io/instance label value. */
    readonly instance: string;
    /** Name of the ConfigMap. @default "todo-chatbot-config" */
    readonly configMapName?: string;
    /** Port the backend listens on (PORT). @default 8000 */
    readonly backendPort?: number;
    /** LOG_LEVEL for the backend. @default "info" */
    readonly logLevel?: string;
    /** Chat provider settings (LLM_PROVIDER, LLM_MODEL, OPENAI_BASE_URL). @default builtin */
    readonly llm?: LlmSettings;
    /**
     * The public origin users reach (BETTER_AUTH_URL), when one is known (an
     * Ingress host). Unset, the backend derives the origin per request from
     * X-Forwarded-Host/Proto, which works behind any NodePort or tunnel URL.
     * @default undefined
     */
    readonly publicUrl?: string;
    /** Where the frontend proxies /api (BACKEND_URL). @default "http://todo-backend:8000" */
    readonly backendUrl?: string;
}

/**
 * The non-sensitive settings, in one ConfigMap. Each workload gets env entries
 * (configMapKeyRef) for exactly the keys it reads, and a checksum over those
 * values to put on its pod template, so that changing a value rolls exactly
 * the pods that read it.
 */
export class AppConfig extends pulumi.ComponentResource {
    public readonly configMapName: pulumi.Output<string>;
    /** The ConfigMap's data, as given to Kubernetes. */
    public readonly data: Record<string, string>;
    public readonly backendEnv: EnvVar[];
    public readonly frontendEnv: EnvVar[];
    public readonly backendChecksum: string;
    public readonly frontendChecksum: string;

    constructor(name: string, args: AppConfigArgs, opts?: pulumi.ComponentResourceOptions) {
        super("todo-chatbot:config:AppConfig", name, {}, opts);
        const configMapName = args.configMapName ?? "todo-chatbot-config";
        const llm = args.llm ?? { provider: "builtin" };

        const backend: Record<string, string> = {
            PORT: String(args.backendPort ?? 8000),
            LOG_LEVEL: args.logLevel ?? "info",
            LLM_PROVIDER: llm.provider,
            ...(llm.model ? { LLM_MODEL: llm.model } : {}),
            ...(llm.baseUrl ? { OPENAI_BASE_URL: llm.baseUrl } : {}),
            ...(args.publicUrl ? { BETTER_AUTH_URL: args.publicUrl } : {}),
        };
        const frontend: Record<string, string> = {
            BACKEND_URL: args.backendUrl ?? "http://todo-backend:8000",
        };
        this.data = { ...backend, ...frontend };

        const configMap = new k8s.core.v1.ConfigMap(
            name,
            {
                metadata: {
                    name: configMapName,
                    namespace: args.namespace,
                    labels: standardLabels({ name: configMapName, instance: args.instance, component: "config" }),
                },
                data: this.data,
            },
            { parent: this },
        );

        this.configMapName = configMap.metadata.name;
        const env = (values: Record<string, string>): EnvVar[] =>
            Object.keys(values).map((key) => ({
                name: key,
                valueFrom: { configMapKeyRef: { name: this.configMapName, key } },
            }));
        this.backendEnv = env(backend);
        this.frontendEnv = env(frontend);
        this.backendChecksum = digestOf(backend);
        this.frontendChecksum = digestOf(frontend);
        this.registerOutputs({ configMapName: this.configMapName, data: this.data });
    }
}
