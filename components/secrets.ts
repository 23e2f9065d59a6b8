import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { digestOf } from "./hash";
import { standardLabels } from "./labels";

type EnvVar = k8s.types.input.core.v1.EnvVar;

/** Where the in-cluster PostgreSQL listens, to compose DATABASE_URL. */
export interface InClusterDatabase {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly user: string;
}

export interface AppSecretsArgs {
    /** Namespace of the Secret. */
    readonly namespace: pulumi.Input<string>;
    /** app.kubernetes.io/instance label value. */
    readonly instance: string;
    /** Name of the Secret to create. @default "todo-chatbot-secrets" */
    readonly secretName?: string;
    /** Use this existing Secret instead of creating one (nothing is generated). @default undefined */
    readonly existingSecret?: string;
    /** In-cluster PostgreSQL: generate its password and compose DATABASE_URL from it. @default undefined */
    readonly inClusterDatabase?: InClusterDatabase;
    /** External database URL; used when there is no in-cluster database. @default undefined */
    readonly databaseUrl?: pulumi.Input<string>;
    /** OpenAI (or compatible) API key, stored as OPENAI_API_KEY. @default undefined */
    readonly openaiApiKey?: pulumi.Input<string>;
    /** Cohere API key, stored as COHERE_API_KEY. @default undefined */
    readonly cohereApiKey?: pulumi.Input<string>;
    /** Changing it generates a new BETTER_AUTH_SECRET (signs every user out). @default 1 */
    readonly authSecretGeneration?: number;
    /** Protect the generated database password from `pulumi destroy`. @default false */
    readonly protectData?: boolean;
}

/**
 * The one Secret the workloads read: BETTER_AUTH_SECRET and the PostgreSQL
 * password are generated once with @pulumi/random and kept in the stack state,
 * so they are stable across `pulumi up` runs and change only on purpose.
 * Values only ever travel as Pulumi secrets; workloads reference them with
 * secretKeyRef.
 */
export class AppSecrets extends pulumi.ComponentResource {
    /** Name of the Secret the workloads reference. */
    public readonly secretName: pulumi.Output<string>;
    /** Keys present in the Secret (for an existing Secret: the keys it must hold). */
    public readonly keys: string[];
    /** The backend's env entries: every key but POSTGRES_PASSWORD, by secretKeyRef. */
    public readonly backendEnv: EnvVar[];
    /**
     * SHA-256 over all values, for a pod-template annotation that rolls the pods
     * when a value changes; undefined for an existing Secret, whose content is
     * not known to the program. Not secret: a digest over values that include a
     * 64-character random secret reveals nothing.
     */
    public readonly checksum?: pulumi.Output<string>;

    constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("todo-chatbot:secrets:AppSecrets", name, {}, opts);
        const secretName = args.secretName ?? "todo-chatbot-secrets";
        const generation = args.authSecretGeneration ?? 1;

        if (args.existingSecret) {
            this.secretName = pulumi.output(args.existingSecret);
            this.keys = ["BETTER_AUTH_SECRET", "DATABASE_URL"];
            if (args.inClusterDatabase) this.keys.push("POSTGRES_PASSWORD");
            // The API keys may or may not be in a Secret this program does not own.
            this.backendEnv = [
                ...this.envFor(["BETTER_AUTH_SECRET", "DATABASE_URL"]),
                ...this.envFor(["OPENAI_API_KEY", "COHERE_API_KEY"], true),
            ];
            this.registerOutputs({ secretName: this.secretName });
            return;
        }
        if (!args.inClusterDatabase && args.databaseUrl === undefined) {
            throw new Error(`${name}: databaseUrl is required when there is no in-cluster database (inClusterDatabase is unset)`);
        }

        const authSecret = new random.RandomPassword(
            `${name}-better-auth-secret`,
            { length: 64, special: false, keepers: { generation: String(generation) } },
            { parent: this },
        );
        const data: Record<string, pulumi.Output<string>> = { BETTER_AUTH_SECRET: authSecret.result };

        if (args.inClusterDatabase) {
            const db = args.inClusterDatabase;
            // Alphanumeric only, so it needs no escaping in the URL or in a shell.
            const password = new random.RandomPassword(
                `${name}-postgres-password`,
                { length: 32, special: false },
                { parent: this, protect: args.protectData ?? false },
            );
            data.POSTGRES_PASSWORD = password.result;
            data.DATABASE_URL = pulumi.interpolate`postgresql://${db.user}:${password.result.apply(encodeURIComponent)}@${db.host}:${db.port}/${db.database}`;
        } else {
            data.DATABASE_URL = pulumi.secret(args.databaseUrl!);
        }
        if (args.openaiApiKey !== undefined) data.OPENAI_API_KEY = pulumi.secret(args.openaiApiKey);
        if (args.cohereApiKey !== undefined) data.COHERE_API_KEY = pulumi.secret(args.cohereApiKey);

        const secret = new k8s.core.v1.Secret(
            name,
            {
                metadata: {
                    name: secretName,
                    namespace: args.namespace,
                    labels: standardLabels({ name: secretName, instance: args.instance, component: "secrets" }),
                },
                type: "Opaque",
                stringData: data,
            },
            { parent: this },
        );

        this.secretName = secret.metadata.name;
        this.keys = Object.keys(data).sort();
        this.backendEnv = this.envFor(this.keys.filter((key) => key !== "POSTGRES_PASSWORD"));
        this.checksum = pulumi.unsecret(
            pulumi.all(data).apply(digestOf),
        );
        this.registerOutputs({ secretName: this.secretName, keys: this.keys, checksum: this.checksum });
    }

    /** Env entries reading `keys` from the Secret, named like the keys. */
    public envFor(keys: string[], optional?: boolean): EnvVar[] {
        return keys.map((key) => ({
            name: key,
            valueFrom: { secretKeyRef: { name: this.secretName, key, ...(optional ? { optional } : {}) } },
        }));
    }
}
