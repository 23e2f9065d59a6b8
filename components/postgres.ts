import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { selectorLabels, standardLabels } from "./labels";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";

/** How the backend reaches the in-cluster database: the Secret's DATABASE_URL is composed from it. */
export const POSTGRES_CONNECTION = { host: "todo-postgres", port: 5432, database: "todo_db", user: "todo" } as const;

/** The official image's `postgres` user and group. */
const POSTGRES_UID = 999;
const DATA_DIR = "/var/lib/postgresql/data";

export interface PostgresArgs {
    /** Namespace of every object. */
    readonly namespace: pulumi.Input<string>;
    /** app.kubernetes.io/instance label value. */
    readonly instance: string;
    /** Name of the StatefulSet and Service; the headless Service gets "-headless". @default "todo-postgres" */
    readonly serviceName?: string;
    /** PostgreSQL version, the image tag is postgres:<version>-bookworm. @default "17" */
    readonly version?: string;
    /** Size of the data volume. @default "1Gi" */
    readonly storage?: string;
    /** StorageClass of the data volume. @default the cluster's default class */
    readonly storageClass?: string;
    /** Container requests and limits. @default requests 100m/256Mi, limits 1/1Gi */
    readonly resources?: k8s.types.input.core.v1.ResourceRequirements;
    /** Secret holding the password. */
    readonly passwordSecretName: pulumi.Input<string>;
    /** Key of the password in that Secret. @default "POSTGRES_PASSWORD" */
    readonly passwordSecretKey?: string;
    /** Database created on first start. @default "todo_db" */
    readonly database?: string;
    /** Owner role created on first start. @default "todo" */
    readonly user?: string;
    /** Protect the StatefulSet (and so its volume) from `pulumi destroy`. @default false */
    readonly protect?: boolean;
}

/**
 * In-cluster PostgreSQL: a one-replica StatefulSet on the official image, its
 * data on a PersistentVolumeClaim that outlives the StatefulSet (retention
 * policy Retain), a headless Service for the StatefulSet's identity and a
 * ClusterIP Service the backend connects to.
 */
export class Postgres extends pulumi.ComponentResource {
    public readonly serviceName: pulumi.Output<string>;
    public readonly host: string;
    public readonly port = POSTGRES_CONNECTION.port;
    public readonly database: string;
    public readonly user: string;
    /** Selector labels of the pod (for NetworkPolicies). */
    public readonly selector: Record<string, string>;

    constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super("todo-chatbot:database:Postgres", name, {}, opts);
        const serviceName = args.serviceName ?? POSTGRES_CONNECTION.host;
        const version = args.version ?? "17";
        const storage = args.storage ?? "1Gi";
        const database = args.database ?? POSTGRES_CONNECTION.database;
        const user = args.user ?? POSTGRES_CONNECTION.user;
        const resources = args.resources ?? {
            requests: { cpu: "100m", memory: "256Mi" },
            limits: { cpu: "1", memory: "1Gi" },
        };
        const labelArgs = { name: serviceName, instance: args.instance, component: "database", version };
        const labels = standardLabels(labelArgs);
        this.selector = selectorLabels(labelArgs);
        this.host = serviceName;
        this.database = database;
        this.user = user;

        // pg_isready over TCP as the app would connect; the socket dir is an emptyDir too.
        const isReady = { exec: { command: ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", user, "-d", database] } };

        const headless = new k8s.core.v1.Service(
            `${name}-headless`,
            {
                metadata: { name: `${serviceName}-headless`, namespace: args.namespace, labels },
                spec: {
                    clusterIP: "None",
                    selector: this.selector,
                    ports: [{ name: "postgres", port: 5432, targetPort: "postgres", protocol: "TCP" }],
                },
            },
            { parent: this },
        );

        new k8s.apps.v1.StatefulSet(
            name,
            {
                metadata: { name: serviceName, namespace: args.namespace, labels },
                spec: {
                    serviceName: headless.metadata.name,
                    replicas: 1,
                    selector: { matchLabels: this.selector },
                    // The volume stays when the StatefulSet is deleted or scaled down.
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            // Fast shutdown (SIGINT) after a checkpoint fits well within this.
                            terminationGracePeriodSeconds: 60,
                            securityContext: { ...restrictedPodSecurityContext(POSTGRES_UID), fsGroupChangePolicy: "OnRootMismatch" },
                            containers: [
                                {
                                    name: "postgres",
                                    image: `postgres:${version}-bookworm`,
                                    imagePullPolicy: "IfNotPresent",
                                    ports: [{ name: "postgres", containerPort: 5432, protocol: "TCP" }],
                                    env: [
                                        { name: "POSTGRES_USER", value: user },
                                        { name: "POSTGRES_DB", value: database },
                                        {
                                            name: "POSTGRES_PASSWORD",
                                            valueFrom: {
                                                secretKeyRef: { name: args.passwordSecretName, key: args.passwordSecretKey ?? "POSTGRES_PASSWORD" },
                                            },
                                        },
                                        // A subdirectory, because a fresh volume's root holds lost+found and initdb wants an empty dir.
                                        { name: "PGDATA", value: `${DATA_DIR}/pgdata` },
                                    ],
                                    resources,
                                    securityContext: restrictedContainerSecurityContext(POSTGRES_UID),
                                    volumeMounts: [
                                        { name: "data", mountPath: DATA_DIR },
                                        { name: "run", mountPath: "/var/run/postgresql" },
                                        { name: "tmp", mountPath: "/tmp" },
                                    ],
                                    // initdb on a new volume takes a while: up to 5 minutes before liveness applies.
                                    startupProbe: { ...isReady, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 60 },
                                    livenessProbe: { ...isReady, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
                                    readinessProbe: { ...isReady, periodSeconds: 5, timeoutSeconds: 5, failureThreshold: 3 },
                                },
                            ],
                            volumes: [
                                { name: "run", emptyDir: { sizeLimit: "16Mi" } },
                                { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                            ],
                        },
                    },
                    volumeClaimTemplates: [
                        {
                            // volumeClaimTemplates are immutable: no version label that would change.
                            metadata: { name: "data", labels: standardLabels({ ...labelArgs, version: undefined }) },
                            spec: {
                                accessModes: ["ReadWriteOnce"],
                                ...(args.storageClass ? { storageClassName: args.storageClass } : {}),
                                resources: { requests: { storage } },
                            },
                        },
                    ],
                },
            },
            { parent: this, protect: args.protect ?? false },
        );

        const service = new k8s.core.v1.Service(
            name,
            {
                metadata: { name: serviceName, namespace: args.namespace, labels },
                spec: {
                    type: "ClusterIP",
                    selector: this.selector,
                    ports: [{ name: "postgres", port: 5432, targetPort: "postgres", protocol: "TCP" }],
                },
            },
            { parent: this },
        );

        this.serviceName = service.metadata.name;
        this.registerOutputs({ serviceName: this.serviceName });
    }
}
