// The Todo AI Chatbot on Kubernetes: wiring only. Config is read and validated
// first; the logic lives in components/.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { frontendAccess } from "./components/access";
import { AppConfig } from "./components/app-config";
import { dockerProviderArgs, minikubeDaemonProblem, runningUnderMocks } from "./components/docker-env";
import { AppImage } from "./components/image";
import { AppIngress, ingressUrl } from "./components/ingress";
import { Namespace } from "./components/namespace";
import { NetworkPolicies, backendExternalPorts } from "./components/network-policies";
import { POSTGRES_CONNECTION, Postgres } from "./components/postgres";
import { AppSecrets } from "./components/secrets";
import { parseSettings, readProjectConfig, toResourceRequirements } from "./components/settings";
import { WebService } from "./components/web-service";

const BACKEND = { serviceName: "todo-backend", port: 8000 };
const FRONTEND = { serviceName: "todo-frontend", port: 3000 };

const settings = parseSettings(readProjectConfig());
const instance = pulumi.getStack();
if (settings.minikubeProfile && !runningUnderMocks()) {
    const problem = minikubeDaemonProblem(settings.minikubeProfile, process.env);
    if (problem) throw new pulumi.RunError(problem);
}

// Explicit providers only (each stack disables the default ones): nothing lands
// in whatever context kubectl happens to point at.
const kubernetes = new k8s.Provider("kubernetes", {
    context: settings.kubeContext,
    // The ConfigMap and Secret keep their contract names, so they are updated in
    // place; the pods that read them roll through checksum annotations instead.
    enableConfigMapMutable: true,
    enableSecretMutable: true,
});
const dockerDaemon = new docker.Provider("docker", dockerProviderArgs(process.env));
const randomness = new random.Provider("random");
const inCluster = { providers: [kubernetes] };

const ns = new Namespace("namespace", { name: settings.namespace, instance, protect: settings.protectData }, inCluster);

const backendImage = new AppImage("backend", {
    repository: BACKEND.serviceName,
    projectRoot: __dirname,
    context: "app/backend",
    platform: settings.imagePlatform,
    registry: settings.imageRegistry,
}, { providers: [dockerDaemon] });
const frontendImage = new AppImage("frontend", {
    repository: FRONTEND.serviceName,
    projectRoot: __dirname,
    context: "app/frontend",
    platform: settings.imagePlatform,
    registry: settings.imageRegistry,
}, { providers: [dockerDaemon] });

const secrets = new AppSecrets("secrets", {
    namespace: ns.name,
    instance,
    existingSecret: settings.existingSecret,
    inClusterDatabase: settings.postgres.enabled ? POSTGRES_CONNECTION : undefined,
    databaseUrl: settings.secrets.databaseUrl === undefined ? undefined : pulumi.secret(settings.secrets.databaseUrl),
    openaiApiKey: settings.secrets.openaiApiKey === undefined ? undefined : pulumi.secret(settings.secrets.openaiApiKey),
    cohereApiKey: settings.secrets.cohereApiKey === undefined ? undefined : pulumi.secret(settings.secrets.cohereApiKey),
    authSecretGeneration: settings.authSecretGeneration,
    protectData: settings.protectData,
}, { providers: [kubernetes, randomness] });

const publicUrl = settings.ingress.enabled ? ingressUrl(settings.ingress.host, settings.ingress.tlsSecretName) : undefined;
const config = new AppConfig("config", {
    namespace: ns.name,
    instance,
    backendPort: BACKEND.port,
    logLevel: settings.logLevel,
    llm: settings.llm,
    publicUrl,
    backendUrl: `http://${BACKEND.serviceName}:${BACKEND.port}`,
}, inCluster);

const postgres = settings.postgres.enabled
    ? new Postgres("postgres", {
          namespace: ns.name,
          instance,
          version: settings.postgres.version,
          storage: settings.postgres.storage,
          storageClass: settings.postgres.storageClass,
          resources: toResourceRequirements(settings.postgres.resources),
          passwordSecretName: secrets.secretName,
          protect: settings.protectData,
      }, inCluster)
    : undefined;

const backendApp = new WebService("backend", {
    namespace: ns.name,
    instance,
    serviceName: BACKEND.serviceName,
    component: "backend",
    image: backendImage.imageRef,
    imagePullPolicy: backendImage.pullPolicy,
    version: backendImage.tag,
    containerPort: BACKEND.port,
    servicePort: BACKEND.port,
    serviceType: settings.backend.serviceType,
    nodePort: settings.backend.nodePort,
    replicas: settings.backend.replicas,
    autoscaling: settings.backend.autoscaling,
    resources: toResourceRequirements(settings.backend.resources),
    env: [...config.backendEnv, ...secrets.backendEnv],
    probes: { liveness: "/health", readiness: "/ready" },
    writablePaths: ["/tmp"],
    initContainers: [{ name: "migrate", command: ["node", "dist/migrate.js"] }],
    podAnnotations: {
        "checksum/config": config.backendChecksum,
        ...(secrets.checksum ? { "checksum/secret": secrets.checksum } : {}),
    },
}, { ...inCluster, dependsOn: postgres ? [postgres] : [] });

const frontendApp = new WebService("frontend", {
    namespace: ns.name,
    instance,
    serviceName: FRONTEND.serviceName,
    component: "frontend",
    image: frontendImage.imageRef,
    imagePullPolicy: frontendImage.pullPolicy,
    version: frontendImage.tag,
    containerPort: FRONTEND.port,
    servicePort: settings.frontend.servicePort,
    serviceType: settings.frontend.serviceType,
    nodePort: settings.frontend.nodePort,
    replicas: settings.frontend.replicas,
    autoscaling: settings.frontend.autoscaling,
    resources: toResourceRequirements(settings.frontend.resources),
    env: config.frontendEnv,
    probes: { liveness: "/health", readiness: "/health" },
    writablePaths: ["/app/.next/cache", "/tmp"],
    podAnnotations: { "checksum/config": config.frontendChecksum },
}, inCluster);

const ingress = settings.ingress.enabled
    ? new AppIngress("ingress", {
          namespace: ns.name,
          instance,
          className: settings.ingress.className,
          host: settings.ingress.host,
          tlsSecretName: settings.ingress.tlsSecretName,
          annotations: settings.ingress.annotations,
          backend: { serviceName: backendApp.serviceName, port: BACKEND.port },
          frontend: { serviceName: frontendApp.serviceName, port: settings.frontend.servicePort },
      }, inCluster)
    : undefined;

new NetworkPolicies("network", {
    namespace: ns.name,
    instance,
    frontend: { selector: frontendApp.selector, port: FRONTEND.port },
    backend: { selector: backendApp.selector, port: BACKEND.port },
    postgres: postgres ? { selector: postgres.selector, port: postgres.port } : undefined,
    ingressControllerNamespace: ingress ? settings.ingress.controllerNamespace : undefined,
    backendExternalPorts: backendExternalPorts({
        externalDatabase: !settings.postgres.enabled,
        externalDatabaseUrl: settings.secrets.databaseUrl,
        llmProvider: settings.llm.provider,
        llmBaseUrl: settings.llm.baseUrl,
    }),
}, inCluster);

export const namespace = ns.name;
export const kubeContext = settings.kubeContext;
export const frontend = frontendAccess({
    namespace: settings.namespace,
    serviceName: FRONTEND.serviceName,
    servicePort: settings.frontend.servicePort,
    serviceType: settings.frontend.serviceType,
    nodePort: frontendApp.nodePort,
    ingressUrl: ingress?.url,
    minikubeProfile: settings.minikubeProfile,
});
export const services = {
    backend: backendApp.serviceAddress,
    frontend: frontendApp.serviceAddress,
    ...(postgres ? { postgres: pulumi.interpolate`${postgres.serviceName}.${settings.namespace}.svc.cluster.local:${postgres.port}` } : {}),
};
export const images = { backend: backendImage.imageRef, frontend: frontendImage.imageRef };
