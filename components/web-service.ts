import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { selectorLabels, standardLabels } from "./labels";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";

type EnvVar = k8s.types.input.core.v1.EnvVar;

export interface HttpProbePaths {
    /** Liveness (and startup) path: must not depend on anything outside the process. */
    readonly liveness: string;
    /** Readiness path: may check dependencies such as the database. */
    readonly readiness: string;
}

export interface InitContainer {
    /** Container name. */
    readonly name: string;
    /** Command run in the service's own image, with its env, mounts and security context. */
    readonly command: string[];
}

export interface WebServiceAutoscaling {
    /** Create a HorizontalPodAutoscaler (and leave spec.replicas to it). */
    readonly enabled: boolean;
    /** Fewest pods the HPA keeps. */
    readonly minReplicas: number;
    /** Most pods the HPA scales to. */
    readonly maxReplicas: number;
    /** Average CPU utilisation, in percent of requests, to scale at. */
    readonly targetCPUUtilizationPercentage: number;
}

export interface WebServiceArgs {
    /** Namespace of every object. */
    readonly namespace: pulumi.Input<string>;
    /** app.kubernetes.io/instance label value. */
    readonly instance: string;
    /** Name of the Deployment, Service, PDB and HPA, and app.kubernetes.io/name, e.g. "todo-backend". */
    readonly serviceName: string;
    /** app.kubernetes.io/component and the container name, e.g. "backend". */
    readonly component: string;
    /** Image reference the pods run. */
    readonly image: pulumi.Input<string>;
    /** Image pull policy. @default "IfNotPresent" */
    readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
    /** app.kubernetes.io/version label, e.g. the image tag. @default undefined */
    readonly version?: string;
    /** Port the container listens on, named "http". */
    readonly containerPort: number;
    /** Port of the Service. @default containerPort */
    readonly servicePort?: number;
    /** Service type. @default "ClusterIP" */
    readonly serviceType?: "ClusterIP" | "NodePort" | "LoadBalancer";
    /** Fixed node port (NodePort/LoadBalancer only). @default chosen by Kubernetes */
    readonly nodePort?: number;
    /** Pod replicas (ignored when autoscaling is enabled). @default 1 */
    readonly replicas?: number;
    /** Container requests and limits. @default requests 100m/128Mi, limits 500m/512Mi */
    readonly resources?: k8s.types.input.core.v1.ResourceRequirements;
    /** Environment of the container (and of init containers). @default [] */
    readonly env?: EnvVar[];
    /** HTTP probe paths on the "http" port. @default liveness and readiness "/health" */
    readonly probes?: HttpProbePaths;
    /** Writable paths, each an emptyDir; the root filesystem is read-only. @default ["/tmp"] */
    readonly writablePaths?: string[];
    /** Size limit of each writable emptyDir. @default "256Mi" */
    readonly writableSizeLimit?: string;
    /** Containers run to completion before the app starts, e.g. migrations. @default [] */
    readonly initContainers?: InitContainer[];
    /** Pod-template annotations, e.g. checksums of the config the pods read. @default {} */
    readonly podAnnotations?: Record<string, pulumi.Input<string>>;
    /** Optional HorizontalPodAutoscaler. @default disabled */
    readonly autoscaling?: WebServiceAutoscaling;
    /** UID and GID the containers run as; at least 10000. @default 10001 */
    readonly runAsUser?: number;
    /** Seconds the pod keeps serving after removal from endpoints before SIGTERM. @default 5 */
    readonly preStopSleepSeconds?: number;
    /** Seconds from SIGTERM to SIGKILL, including the preStop pause. @default 30 */
    readonly terminationGracePeriodSeconds?: number;
}

/**
 * A stateless HTTP service: Deployment + Service, secure and production-ready
 * by default (restricted security context, probes, requests and limits, zero-
 * downtime rolling updates, graceful shutdown), plus a PodDisruptionBudget and
 * topology spread when it runs more than one pod, and an optional HPA.
 */
export class WebService extends pulumi.ComponentResource {
    public readonly deploymentName: pulumi.Output<string>;
    public readonly serviceName: pulumi.Output<string>;
    /** Cluster-internal DNS name of the Service, with its port. */
    public readonly serviceAddress: pulumi.Output<string>;
    /** The node port, for NodePort and LoadBalancer services. */
    public readonly nodePort: pulumi.Output<number | undefined>;
    /** Selector labels of the pods (for NetworkPolicies). */
    public readonly selector: Record<string, string>;

    constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("todo-chatbot:app:WebService", name, {}, opts);
        const replicas = args.replicas ?? 1;
        const servicePort = args.servicePort ?? args.containerPort;
        const serviceType = args.serviceType ?? "ClusterIP";
        const runAsUser = args.runAsUser ?? 10001;
        const probes = args.probes ?? { liveness: "/health", readiness: "/health" };
        const writablePaths = args.writablePaths ?? ["/tmp"];
        const initContainers = args.initContainers ?? [];
        const preStopSleepSeconds = args.preStopSleepSeconds ?? 5;
        const terminationGracePeriodSeconds = args.terminationGracePeriodSeconds ?? 30;
        const autoscaling = args.autoscaling?.enabled ? args.autoscaling : undefined;
        const resources = args.resources ?? {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "512Mi" },
        };

        const problems: string[] = [];
        if (!Number.isInteger(replicas) || replicas < 1) problems.push(`replicas = ${replicas}: expected an integer >= 1`);
        if (!Number.isInteger(runAsUser) || runAsUser < 10000) problems.push(`runAsUser = ${runAsUser}: expected a non-root UID >= 10000`);
        if (args.nodePort !== undefined && serviceType === "ClusterIP") problems.push(`nodePort = ${args.nodePort}: needs serviceType NodePort or LoadBalancer`);
        if (preStopSleepSeconds >= terminationGracePeriodSeconds) {
            problems.push(`preStopSleepSeconds = ${preStopSleepSeconds}: expected less than terminationGracePeriodSeconds (${terminationGracePeriodSeconds})`);
        }
        if (problems.length > 0) throw new Error(`WebService ${name}: ${problems.join("; ")}`);

        const labelArgs = { name: args.serviceName, instance: args.instance, component: args.component, version: args.version };
        this.selector = selectorLabels(labelArgs);
        const labels = standardLabels(labelArgs);
        const volumeMounts = writablePaths.map((mountPath) => ({ name: volumeName(mountPath), mountPath }));
        const securityContext = restrictedContainerSecurityContext(runAsUser);
        const imagePullPolicy = args.imagePullPolicy ?? "IfNotPresent";
        const env = args.env ?? [];
        const httpGet = (path: string) => ({ path, port: "http" });

        const multiplePods = autoscaling ? autoscaling.minReplicas >= 2 : replicas >= 2;

        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: { name: args.serviceName, namespace: args.namespace, labels },
                spec: {
                    // With an HPA, the HPA owns the replica count; setting it here would undo its scaling on every up.
                    ...(autoscaling ? {} : { replicas }),
                    revisionHistoryLimit: 5,
                    selector: { matchLabels: this.selector },
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                    template: {
                        metadata: { labels, annotations: args.podAnnotations ?? {} },
                        spec: {
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            terminationGracePeriodSeconds,
                            securityContext: restrictedPodSecurityContext(runAsUser),
                            ...(multiplePods
                                ? {
                                      topologySpreadConstraints: [
                                          {
                                              maxSkew: 1,
                                              topologyKey: "kubernetes.io/hostname",
                                              // Prefer spreading, but still schedule on a one-node cluster such as minikube.
                                              whenUnsatisfiable: "ScheduleAnyway",
                                              labelSelector: { matchLabels: this.selector },
                                          },
                                      ],
                                  }
                                : {}),
                            ...(initContainers.length > 0
                                ? {
                                      initContainers: initContainers.map((init) => ({
                                          name: init.name,
                                          image: args.image,
                                          imagePullPolicy,
                                          command: init.command,
                                          env,
                                          resources,
                                          securityContext,
                                          volumeMounts,
                                      })),
                                  }
                                : {}),
                            containers: [
                                {
                                    name: args.component,
                                    image: args.image,
                                    imagePullPolicy,
                                    ports: [{ name: "http", containerPort: args.containerPort, protocol: "TCP" }],
                                    env,
                                    resources,
                                    securityContext,
                                    volumeMounts,
                                    // Generous start-up budget (2 min) so liveness never kills a slow first start.
                                    startupProbe: { httpGet: httpGet(probes.liveness), periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 60 },
                                    livenessProbe: { httpGet: httpGet(probes.liveness), periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
                                    readinessProbe: { httpGet: httpGet(probes.readiness), periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
                                    // Keep serving while the endpoint removal propagates to kube-proxy and ingress.
                                    lifecycle: { preStop: { exec: { command: ["sleep", String(preStopSleepSeconds)] } } },
                                },
                            ],
                            volumes: volumeMounts.map(({ name: volume }) => ({
                                name: volume,
                                emptyDir: { sizeLimit: args.writableSizeLimit ?? "256Mi" },
                            })),
                        },
                    },
                },
            },
            { parent: this },
        );

        const service = new k8s.core.v1.Service(
            name,
            {
                metadata: { name: args.serviceName, namespace: args.namespace, labels },
                spec: {
                    type: serviceType,
                    selector: this.selector,
                    ports: [
                        {
                            name: "http",
                            port: servicePort,
                            targetPort: "http",
                            protocol: "TCP",
                            ...(args.nodePort !== undefined ? { nodePort: args.nodePort } : {}),
                        },
                    ],
                },
            },
            { parent: this },
        );

        if (multiplePods) {
            new k8s.policy.v1.PodDisruptionBudget(
                name,
                {
                    metadata: { name: args.serviceName, namespace: args.namespace, labels },
                    spec: { maxUnavailable: 1, selector: { matchLabels: this.selector } },
                },
                { parent: this },
            );
        }

        if (autoscaling) {
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(
                name,
                {
                    metadata: { name: args.serviceName, namespace: args.namespace, labels },
                    spec: {
                        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
                        minReplicas: autoscaling.minReplicas,
                        maxReplicas: autoscaling.maxReplicas,
                        metrics: [
                            {
                                type: "Resource",
                                resource: {
                                    name: "cpu",
                                    target: { type: "Utilization", averageUtilization: autoscaling.targetCPUUtilizationPercentage },
                                },
                            },
                        ],
                    },
                },
                { parent: this },
            );
        }

        this.deploymentName = deployment.metadata.name;
        this.serviceName = service.metadata.name;
        this.serviceAddress = pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local:${servicePort}`;
        this.nodePort = service.spec.ports.apply((ports) => ports?.[0]?.nodePort ?? args.nodePort);
        this.registerOutputs({
            deploymentName: this.deploymentName,
            serviceName: this.serviceName,
            serviceAddress: this.serviceAddress,
            nodePort: this.nodePort,
        });
    }
}

/** "/app/.next/cache" -> "app-next-cache": a valid volume name per writable path. */
export function volumeName(mountPath: string): string {
    return mountPath.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "root";
}
