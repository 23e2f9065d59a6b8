import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { frontendAccess } from "../components/access";
import { AppConfig } from "../components/app-config";
import { dockerProviderArgs, minikubeDaemonProblem, runningUnderMocks } from "../components/docker-env";
import { AppImage } from "../components/image";
import { AppIngress } from "../components/ingress";
import { Namespace } from "../components/namespace";
import { NetworkPolicies, backendExternalPorts } from "../components/network-policies";
import { Postgres, POSTGRES_CONNECTION } from "../components/postgres";
import { AppSecrets } from "../components/secrets";
import { WebService, volumeName } from "../components/web-service";
import { containersOf, find, runComponent, tempDir, valueOf, writeFiles } from "./helpers";

const RESTRICTED = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

describe("Namespace", () => {
    it("enforces the restricted Pod Security profile", async () => {
        const { objects } = await runComponent(() => new Namespace("ns", { name: "todo", instance: "t" }));
        const ns = find(objects, "Namespace", "todo");
        assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert.equal(ns.metadata.labels["pod-security.kubernetes.io/warn"], "restricted");
        assert.equal(ns.metadata.labels["app.kubernetes.io/part-of"], "todo-chatbot");
    });
});

describe("AppSecrets", () => {
    it("generates BETTER_AUTH_SECRET and the database password, and composes DATABASE_URL from them", async () => {
        const { objects, mocks, result } = await runComponent(
            () => new AppSecrets("s", { namespace: "ns", instance: "t", inClusterDatabase: POSTGRES_CONNECTION }),
            { secrets: "reveal" },
        );
        const secret = find(objects, "Secret", "todo-chatbot-secrets");
        const data = secret.stringData;
        assert.deepEqual(Object.keys(data).sort(), ["BETTER_AUTH_SECRET", "DATABASE_URL", "POSTGRES_PASSWORD"]);
        assert.equal(data.BETTER_AUTH_SECRET.length, 64);
        assert.equal(data.DATABASE_URL, `postgresql://todo:${data.POSTGRES_PASSWORD}@todo-postgres:5432/todo_db`);
        const randoms = mocks.resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword");
        assert.equal(randoms.length, 2);
        assert.ok(randoms.every((r) => r.inputs.special === false), "alphanumeric: safe in a URL");
        assert.deepEqual(result.keys, ["BETTER_AUTH_SECRET", "DATABASE_URL", "POSTGRES_PASSWORD"]);
        assert.deepEqual(result.backendEnv.map((e: any) => e.name), ["BETTER_AUTH_SECRET", "DATABASE_URL"], "the backend does not get POSTGRES_PASSWORD");
    });

    it("marks every value secret", async () => {
        const { mocks } = await runComponent(() =>
            new AppSecrets("s", { namespace: "ns", instance: "t", databaseUrl: "postgresql://u:p@db/x", openaiApiKey: "sk-1" }),
        );
        const secret = mocks.resources.find((r) => r.type === "kubernetes:core/v1:Secret")!;
        assert.equal(secret.inputs.stringData[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
    });

    it("stores user-given keys and an external database URL as given", async () => {
        const { objects, mocks } = await runComponent(
            () => new AppSecrets("s", { namespace: "ns", instance: "t", databaseUrl: "postgresql://u:p@neon/db", openaiApiKey: "sk-1", cohereApiKey: "co-1" }),
            { secrets: "reveal" },
        );
        const data = find(objects, "Secret", "todo-chatbot-secrets").stringData;
        assert.equal(data.DATABASE_URL, "postgresql://u:p@neon/db");
        assert.equal(data.OPENAI_API_KEY, "sk-1");
        assert.equal(data.COHERE_API_KEY, "co-1");
        assert.equal(data.POSTGRES_PASSWORD, undefined);
        assert.equal(mocks.resources.filter((r) => r.type.startsWith("random:")).length, 1, "only the auth secret is generated");
    });

    it("rotates BETTER_AUTH_SECRET only through authSecretGeneration (a keeper)", async () => {
        const keepers = async (generation?: number) => {
            const { mocks } = await runComponent(() => new AppSecrets("s", { namespace: "ns", instance: "t", inClusterDatabase: POSTGRES_CONNECTION, authSecretGeneration: generation }));
            return mocks.resources.find((r) => r.name === "s-better-auth-secret")!.inputs.keepers;
        };
        assert.deepEqual(await keepers(), { generation: "1" });
        assert.deepEqual(await keepers(2), { generation: "2" });
    });

    it("backend pods roll when a secret value changes: the checksum follows the values", async () => {
        const checksum = async (key: string) => {
            const { result } = await runComponent(() => new AppSecrets("s", { namespace: "ns", instance: "t", databaseUrl: "postgresql://u:p@db/x", openaiApiKey: key }));
            return valueOf(result.checksum!);
        };
        const a = await checksum("sk-a");
        assert.match(a, /^[0-9a-f]{64}$/);
        assert.equal(await checksum("sk-a"), a);
        assert.notEqual(await checksum("sk-b"), a);
    });

    it("the checksum is not a secret output (it is a digest that includes a 64-character random value)", async () => {
        const { result } = await runComponent(() => new AppSecrets("s", { namespace: "ns", instance: "t", inClusterDatabase: POSTGRES_CONNECTION }));
        assert.equal(await (result.checksum as any).isSecret, false);
    });

    it("uses an existing Secret instead, creating and generating nothing", async () => {
        const { mocks, result } = await runComponent(() => new AppSecrets("s", { namespace: "ns", instance: "t", existingSecret: "mine", inClusterDatabase: POSTGRES_CONNECTION }));
        assert.deepEqual(mocks.resources.map((r) => r.type), ["todo-chatbot:secrets:AppSecrets"]);
        assert.equal(await valueOf(result.secretName), "mine");
        assert.equal(result.checksum, undefined);
        const optional = result.backendEnv.filter((e: any) => e.valueFrom.secretKeyRef.optional).map((e: any) => e.name);
        assert.deepEqual(optional, ["OPENAI_API_KEY", "COHERE_API_KEY"]);
    });

    it("refuses to run without any database", async () => {
        await assert.rejects(
            runComponent(() => new AppSecrets("s", { namespace: "ns", instance: "t" })),
            /databaseUrl is required when there is no in-cluster database/,
        );
    });
});

describe("AppConfig", () => {
    it("holds only non-sensitive settings, BETTER_AUTH_URL only when a public origin is known", async () => {
        const withoutUrl = await runComponent(() => new AppConfig("c", { namespace: "ns", instance: "t" }));
        assert.deepEqual(find(withoutUrl.objects, "ConfigMap", "todo-chatbot-config").data, {
            PORT: "8000",
            LOG_LEVEL: "info",
            LLM_PROVIDER: "builtin",
            BACKEND_URL: "http://todo-backend:8000",
        });
        const withUrl = await runComponent(() =>
            new AppConfig("c", {
                namespace: "ns",
                instance: "t",
                publicUrl: "https://todo.example.com",
                llm: { provider: "openai", model: "gpt-4o-mini", baseUrl: "https://llm.local/v1" },
            }),
        );
        const data = find(withUrl.objects, "ConfigMap", "todo-chatbot-config").data;
        assert.equal(data.BETTER_AUTH_URL, "https://todo.example.com");
        assert.equal(data.LLM_MODEL, "gpt-4o-mini");
        assert.equal(data.OPENAI_BASE_URL, "https://llm.local/v1");
    });

    it("gives each workload env refs for exactly the keys it reads, and a checksum over them", async () => {
        const { result } = await runComponent(() => new AppConfig("c", { namespace: "ns", instance: "t" }));
        assert.deepEqual(result.backendEnv.map((e: any) => e.name), ["PORT", "LOG_LEVEL", "LLM_PROVIDER"]);
        assert.deepEqual(result.frontendEnv.map((e: any) => e.name), ["BACKEND_URL"]);
        assert.ok(result.backendEnv.every((e: any) => e.valueFrom.configMapKeyRef.key === e.name && e.value === undefined));
        const debug = (await runComponent(() => new AppConfig("c", { namespace: "ns", instance: "t", logLevel: "debug" }))).result;
        assert.notEqual(debug.backendChecksum, result.backendChecksum, "a backend setting rolls the backend");
        assert.equal(debug.frontendChecksum, result.frontendChecksum, "but not the frontend");
    });
});

describe("AppImage", () => {
    const project = () => {
        const root = tempDir("img");
        writeFiles(root, { "app/api/Dockerfile": "FROM node:24-bookworm-slim\n", "app/api/server.js": "1" });
        return root;
    };

    it("keeps the image in the local daemon without a registry: no push, name:tag, pull policy Never", async () => {
        const root = project();
        const { mocks, result } = await runComponent(() => new AppImage("api", { repository: "todo-api", projectRoot: root, context: "app/api", platform: "linux/amd64" }));
        const image = mocks.resources.find((r) => r.type === "docker:index/image:Image")!;
        assert.equal(image.inputs.skipPush, true);
        assert.equal(image.inputs.buildOnPreview, false);
        assert.deepEqual(image.inputs.build, { context: "app/api", dockerfile: "app/api/Dockerfile", platform: "linux/amd64", builderVersion: "BuilderBuildKit", args: {} });
        assert.match(image.inputs.imageName, /^todo-api:[0-9a-f]{20}$/);
        assert.equal(await valueOf(result.imageRef), image.inputs.imageName);
        assert.equal(result.pullPolicy, "Never");
    });

    it("pushes to a registry and runs the pushed digest", async () => {
        const root = project();
        const { mocks, result } = await runComponent(() =>
            new AppImage("api", { repository: "todo-api", projectRoot: root, context: "app/api", registry: "ghcr.io/acme", platform: "linux/arm64" }),
        );
        const image = mocks.resources.find((r) => r.type === "docker:index/image:Image")!;
        assert.equal(image.inputs.skipPush, false);
        assert.equal(image.inputs.build.platform, "linux/arm64");
        assert.match(image.inputs.imageName, /^ghcr\.io\/acme\/todo-api:[0-9a-f]{20}$/);
        assert.match(await valueOf(result.imageRef), /^ghcr\.io\/acme\/todo-api@sha256:[0-9a-f]{64}$/);
        assert.equal(result.pullPolicy, "IfNotPresent");
    });

    it("tags by content: a source change changes the tag, nothing else does", async () => {
        const root = project();
        const tag = async () => (await runComponent(() => new AppImage("api", { repository: "r", projectRoot: root, context: "app/api", platform: "linux/amd64" }))).result.tag;
        const first = await tag();
        assert.equal(await tag(), first);
        writeFiles(root, { "app/api/server.js": "2" });
        assert.notEqual(await tag(), first);
    });
});

describe("WebService", () => {
    const base = { namespace: "ns", instance: "t", serviceName: "todo-api", component: "api", image: "todo-api:abc", containerPort: 8000 };

    it("runs with the restricted security context, probes, requests and limits by default", async () => {
        const { objects } = await runComponent(() => new WebService("api", base));
        const deployment = find(objects, "Deployment", "todo-api");
        const pod = deployment.spec.template.spec;
        assert.equal(pod.automountServiceAccountToken, false);
        assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } });
        const [container] = pod.containers;
        assert.deepEqual(container.securityContext, { ...RESTRICTED, runAsUser: 10001, runAsGroup: 10001 });
        assert.deepEqual(container.resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } });
        assert.deepEqual(container.ports, [{ name: "http", containerPort: 8000, protocol: "TCP" }]);
        for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
            assert.deepEqual(container[probe].httpGet, { path: "/health", port: "http" }, probe);
        }
        assert.deepEqual(container.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
        assert.deepEqual(pod.volumes, [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }]);
    });

    it("rolls out with no unavailable pod and shuts down gracefully", async () => {
        const { objects } = await runComponent(() => new WebService("api", base));
        const spec = find(objects, "Deployment", "todo-api").spec;
        assert.deepEqual(spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        const pod = spec.template.spec;
        assert.deepEqual(pod.containers[0].lifecycle.preStop.exec.command, ["sleep", "5"]);
        assert.equal(pod.terminationGracePeriodSeconds, 30);
    });

    it("uses separate liveness and readiness paths (backend /health and /ready)", async () => {
        const { objects } = await runComponent(() => new WebService("api", { ...base, probes: { liveness: "/health", readiness: "/ready" } }));
        const [container] = find(objects, "Deployment", "todo-api").spec.template.spec.containers;
        assert.equal(container.startupProbe.httpGet.path, "/health");
        assert.equal(container.livenessProbe.httpGet.path, "/health");
        assert.equal(container.readinessProbe.httpGet.path, "/ready");
    });

    it("runs init containers in the same image, env and security context (migrations before the app)", async () => {
        const env = [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "s", key: "DATABASE_URL" } } }];
        const { objects } = await runComponent(() =>
            new WebService("api", { ...base, env, initContainers: [{ name: "migrate", command: ["node", "dist/migrate.js"] }] }),
        );
        const pod = find(objects, "Deployment", "todo-api").spec.template.spec;
        const [init] = pod.initContainers;
        assert.equal(init.name, "migrate");
        assert.deepEqual(init.command, ["node", "dist/migrate.js"]);
        assert.equal(init.image, "todo-api:abc");
        assert.deepEqual(init.env, env);
        assert.deepEqual(init.securityContext, pod.containers[0].securityContext);
        assert.deepEqual(init.resources, pod.containers[0].resources);
    });

    it("exposes the container port through a Service derived from the pod labels", async () => {
        const { objects } = await runComponent(() => new WebService("api", { ...base, servicePort: 80, serviceType: "NodePort", nodePort: 30080 }));
        const service = find(objects, "Service", "todo-api");
        const deployment = find(objects, "Deployment", "todo-api");
        assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
        assert.deepEqual(service.spec.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP", nodePort: 30080 }]);
        assert.equal(service.spec.type, "NodePort");
    });

    it("adds a PodDisruptionBudget and topology spread only with two or more replicas", async () => {
        const one = await runComponent(() => new WebService("api", { ...base, replicas: 1 }));
        assert.equal(one.objects.filter((o) => o.kind === "PodDisruptionBudget").length, 0);
        assert.equal(find(one.objects, "Deployment", "todo-api").spec.template.spec.topologySpreadConstraints, undefined);
        const two = await runComponent(() => new WebService("api", { ...base, replicas: 2 }));
        const pdb = find(two.objects, "PodDisruptionBudget", "todo-api");
        assert.deepEqual(pdb.spec, { maxUnavailable: 1, selector: { matchLabels: find(two.objects, "Deployment", "todo-api").spec.selector.matchLabels } });
        const [spread] = find(two.objects, "Deployment", "todo-api").spec.template.spec.topologySpreadConstraints;
        assert.equal(spread.topologyKey, "kubernetes.io/hostname");
        assert.equal(spread.whenUnsatisfiable, "ScheduleAnyway");
    });

    it("optionally adds a HorizontalPodAutoscaler, which then owns the replica count", async () => {
        const { objects } = await runComponent(() =>
            new WebService("api", { ...base, replicas: 3, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 } }),
        );
        const hpa = find(objects, "HorizontalPodAutoscaler", "todo-api");
        assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "todo-api" });
        assert.equal(hpa.spec.minReplicas, 2);
        assert.equal(hpa.spec.maxReplicas, 6);
        assert.equal(hpa.spec.metrics[0].resource.target.averageUtilization, 70);
        assert.equal(find(objects, "Deployment", "todo-api").spec.replicas, undefined);
        const off = await runComponent(() => new WebService("api", { ...base, autoscaling: { enabled: false, minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70 } }));
        assert.equal(off.objects.filter((o) => o.kind === "HorizontalPodAutoscaler").length, 0);
    });

    it("mounts an emptyDir per writable path", async () => {
        assert.equal(volumeName("/app/.next/cache"), "app-next-cache");
        const { objects } = await runComponent(() => new WebService("api", { ...base, writablePaths: ["/app/.next/cache", "/tmp"] }));
        const pod = find(objects, "Deployment", "todo-api").spec.template.spec;
        assert.deepEqual(pod.containers[0].volumeMounts.map((m: any) => m.mountPath), ["/app/.next/cache", "/tmp"]);
        assert.deepEqual(pod.volumes.map((v: any) => Object.keys(v.emptyDir)), [["sizeLimit"], ["sizeLimit"]]);
    });

    it("puts the given annotations on the pod template", async () => {
        const { objects } = await runComponent(() => new WebService("api", { ...base, podAnnotations: { "checksum/config": "abc" } }));
        assert.deepEqual(find(objects, "Deployment", "todo-api").spec.template.metadata.annotations, { "checksum/config": "abc" });
    });

    it("rejects a root or low UID and other impossible arguments before creating anything", async () => {
        await assert.rejects(runComponent(() => new WebService("api", { ...base, runAsUser: 0 })), /runAsUser = 0: expected a non-root UID >= 10000/);
        await assert.rejects(runComponent(() => new WebService("api", { ...base, nodePort: 30080 })), /nodePort = 30080: needs serviceType NodePort/);
        await assert.rejects(runComponent(() => new WebService("api", { ...base, replicas: 0 })), /replicas = 0/);
        await assert.rejects(
            runComponent(() => new WebService("api", { ...base, preStopSleepSeconds: 30 })),
            /preStopSleepSeconds = 30: expected less than terminationGracePeriodSeconds \(30\)/,
        );
    });
});

describe("Postgres", () => {
    const args = { namespace: "ns", instance: "t", passwordSecretName: "todo-chatbot-secrets" };

    it("runs the official image as uid/gid 999 with a read-only root filesystem", async () => {
        const { objects } = await runComponent(() => new Postgres("pg", args));
        const sts = find(objects, "StatefulSet", "todo-postgres");
        const pod = sts.spec.template.spec;
        const [container] = pod.containers;
        assert.equal(container.image, "postgres:17-bookworm");
        assert.deepEqual(container.securityContext, { ...RESTRICTED, runAsUser: 999, runAsGroup: 999 });
        assert.equal(pod.securityContext.fsGroup, 999);
        assert.equal(pod.automountServiceAccountToken, false);
        const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
        assert.equal(env.POSTGRES_USER, "todo");
        assert.equal(env.POSTGRES_DB, "todo_db");
        assert.equal(env.PGDATA, "/var/lib/postgresql/data/pgdata");
        assert.deepEqual(env.POSTGRES_PASSWORD, { secretKeyRef: { name: "todo-chatbot-secrets", key: "POSTGRES_PASSWORD" } });
        assert.deepEqual(container.volumeMounts.map((m: any) => m.mountPath), ["/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"]);
        assert.deepEqual(pod.volumes.map((v: any) => v.name), ["run", "tmp"]);
    });

    it("keeps data on a claim from volumeClaimTemplates, retained when the StatefulSet goes", async () => {
        const { objects } = await runComponent(() => new Postgres("pg", { ...args, storage: "5Gi", storageClass: "fast" }));
        const sts = find(objects, "StatefulSet", "todo-postgres");
        assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
        const [claim] = sts.spec.volumeClaimTemplates;
        assert.equal(claim.metadata.name, "data");
        assert.deepEqual(claim.spec, { accessModes: ["ReadWriteOnce"], storageClassName: "fast", resources: { requests: { storage: "5Gi" } } });
        assert.equal(claim.metadata.labels["app.kubernetes.io/version"], undefined, "claim templates are immutable: no version label");
        const defaults = await runComponent(() => new Postgres("pg", args));
        const [defaultClaim] = find(defaults.objects, "StatefulSet", "todo-postgres").spec.volumeClaimTemplates;
        assert.deepEqual(defaultClaim.spec.resources.requests, { storage: "1Gi" });
        assert.equal(defaultClaim.spec.storageClassName, undefined);
    });

    it("probes with pg_isready", async () => {
        const { objects } = await runComponent(() => new Postgres("pg", args));
        const [container] = find(objects, "StatefulSet", "todo-postgres").spec.template.spec.containers;
        for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
            assert.equal(container[probe].exec.command[0], "pg_isready", probe);
            assert.ok(container[probe].exec.command.includes("todo_db"), probe);
        }
    });

    it("has a headless Service for the StatefulSet and a ClusterIP Service for clients", async () => {
        const { objects } = await runComponent(() => new Postgres("pg", args));
        const sts = find(objects, "StatefulSet", "todo-postgres");
        const headless = find(objects, "Service", "todo-postgres-headless");
        assert.equal(headless.spec.clusterIP, "None");
        assert.equal(sts.spec.serviceName, "todo-postgres-headless");
        const service = find(objects, "Service", "todo-postgres");
        assert.equal(service.spec.ports[0].port, 5432);
        assert.deepEqual(service.spec.selector, sts.spec.selector.matchLabels);
    });

    it("protect guards the StatefulSet (and so its volume) against `pulumi destroy`", async () => {
        const isProtected = async (protect?: boolean) =>
            (await runComponent(() => new Postgres("pg", { ...args, protect }))).mocks.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet")!.protect;
        assert.equal(await isProtected(true), true);
        assert.equal(await isProtected(undefined), false);
    });
});

describe("AppIngress", () => {
    const args = {
        namespace: "ns",
        instance: "t",
        backend: { serviceName: "todo-backend", port: 8000 },
        frontend: { serviceName: "todo-frontend", port: 80 },
    };

    it("routes /api and /mcp to the backend and / to the frontend on one host", async () => {
        const { objects, result } = await runComponent(() => new AppIngress("in", args));
        const ingress = find(objects, "Ingress", "todo-chatbot");
        assert.equal(ingress.spec.ingressClassName, "nginx");
        const [rule] = ingress.spec.rules;
        assert.equal(rule.host, "todo.local");
        assert.deepEqual(rule.http.paths.map((p: any) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.number]), [
            ["/api", "Prefix", "todo-backend", 8000],
            ["/mcp", "Prefix", "todo-backend", 8000],
            ["/", "Prefix", "todo-frontend", 80],
        ]);
        assert.equal(ingress.spec.tls, undefined);
        assert.equal(result.url, "http://todo.local");
    });

    it("serves TLS from the named Secret", async () => {
        const { objects, result } = await runComponent(() => new AppIngress("in", { ...args, host: "todo.example.com", tlsSecretName: "todo-tls" }));
        assert.deepEqual(find(objects, "Ingress", "todo-chatbot").spec.tls, [{ hosts: ["todo.example.com"], secretName: "todo-tls" }]);
        assert.equal(result.url, "https://todo.example.com");
    });

    it("does not wait for a load-balancer address, and keeps user annotations", async () => {
        const { objects } = await runComponent(() => new AppIngress("in", { ...args, annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" } }));
        assert.deepEqual(find(objects, "Ingress", "todo-chatbot").metadata.annotations, {
            "cert-manager.io/cluster-issuer": "letsencrypt",
            "pulumi.com/skipAwait": "true",
        });
    });
});

describe("NetworkPolicies", () => {
    const frontend = { selector: { "app.kubernetes.io/name": "todo-frontend" }, port: 3000 };
    const backend = { selector: { "app.kubernetes.io/name": "todo-backend" }, port: 8000 };
    const postgres = { selector: { "app.kubernetes.io/name": "todo-postgres" }, port: 5432 };

    it("denies by default and allows DNS egress for every pod", async () => {
        const { objects } = await runComponent(() => new NetworkPolicies("np", { namespace: "ns", instance: "t", frontend, backend }));
        assert.deepEqual(find(objects, "NetworkPolicy", "todo-chatbot-default-deny").spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const dns = find(objects, "NetworkPolicy", "todo-chatbot-allow-dns").spec;
        assert.deepEqual(dns.podSelector, {});
        assert.deepEqual(dns.egress, [{ ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] }]);
    });

    it("lets only the backend reach PostgreSQL, and only the frontend reach the backend", async () => {
        const { objects } = await runComponent(() => new NetworkPolicies("np", { namespace: "ns", instance: "t", frontend, backend, postgres }));
        const pg = find(objects, "NetworkPolicy", "todo-chatbot-postgres").spec;
        assert.deepEqual(pg.podSelector.matchLabels, postgres.selector);
        assert.deepEqual(pg.ingress, [{ from: [{ podSelector: { matchLabels: backend.selector } }], ports: [{ protocol: "TCP", port: 5432 }] }]);
        assert.deepEqual(pg.egress, []);
        const be = find(objects, "NetworkPolicy", "todo-chatbot-backend").spec;
        assert.deepEqual(be.ingress, [{ from: [{ podSelector: { matchLabels: frontend.selector } }], ports: [{ protocol: "TCP", port: 8000 }] }]);
        assert.deepEqual(be.egress, [{ to: [{ podSelector: { matchLabels: postgres.selector } }], ports: [{ protocol: "TCP", port: 5432 }] }]);
        const fe = find(objects, "NetworkPolicy", "todo-chatbot-frontend").spec;
        assert.deepEqual(fe.ingress, [{ ports: [{ protocol: "TCP", port: 3000 }] }]);
        assert.deepEqual(fe.egress, [{ to: [{ podSelector: { matchLabels: backend.selector } }], ports: [{ protocol: "TCP", port: 8000 }] }]);
    });

    it("admits the Ingress controller to the backend when an Ingress routes to it", async () => {
        const { objects } = await runComponent(() =>
            new NetworkPolicies("np", { namespace: "ns", instance: "t", frontend, backend, ingressControllerNamespace: "ingress-nginx" }),
        );
        const be = find(objects, "NetworkPolicy", "todo-chatbot-backend").spec;
        assert.deepEqual(be.ingress[1], {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
            ports: [{ protocol: "TCP", port: 8000 }],
        });
        assert.equal(objects.filter((o) => o.metadata.name === "todo-chatbot-postgres").length, 0, "no PostgreSQL, no policy for it");
    });

    it("opens the backend's egress to exactly the external ports it needs", async () => {
        assert.deepEqual(backendExternalPorts({ externalDatabase: false, llmProvider: "builtin" }), []);
        assert.deepEqual(backendExternalPorts({ externalDatabase: true, externalDatabaseUrl: "postgresql://u:p@neon.tech/db", llmProvider: "builtin" }), [5432]);
        assert.deepEqual(backendExternalPorts({ externalDatabase: true, externalDatabaseUrl: "postgres://u:p@db:6543/x", llmProvider: "openai" }), [443, 6543]);
        assert.deepEqual(backendExternalPorts({ externalDatabase: false, llmProvider: "openai", llmBaseUrl: "http://ollama.local:11434/v1" }), [11434]);
        assert.deepEqual(backendExternalPorts({ externalDatabase: true, llmProvider: "cohere" }), [443, 5432]);
        const { objects } = await runComponent(() => new NetworkPolicies("np", { namespace: "ns", instance: "t", frontend, backend, backendExternalPorts: [443] }));
        const be = find(objects, "NetworkPolicy", "todo-chatbot-backend").spec;
        assert.deepEqual(be.egress, [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }], ports: [{ protocol: "TCP", port: 443 }] }]);
    });
});

describe("Docker daemon selection", () => {
    const minikubeEnv = {
        DOCKER_TLS_VERIFY: "1",
        DOCKER_HOST: "tcp://192.168.49.2:2376",
        DOCKER_CERT_PATH: "/home/u/.minikube/certs",
        MINIKUBE_ACTIVE_DOCKERD: "minikube",
    };

    it("the docker provider follows DOCKER_HOST and, with TLS, DOCKER_CERT_PATH", () => {
        assert.deepEqual(dockerProviderArgs(minikubeEnv), { host: "tcp://192.168.49.2:2376", certPath: "/home/u/.minikube/certs" });
        assert.deepEqual(dockerProviderArgs({ DOCKER_HOST: "unix:///run/docker.sock", DOCKER_CERT_PATH: "/c" }), { host: "unix:///run/docker.sock" });
        assert.deepEqual(dockerProviderArgs({}), {});
    });

    it("accepts minikube's daemon as `minikube docker-env` sets it", () => {
        assert.equal(minikubeDaemonProblem("minikube", minikubeEnv), undefined);
    });

    it("tells the user to run eval $(minikube docker-env) when the daemon is not minikube's", () => {
        const problem = minikubeDaemonProblem("minikube", { DOCKER_HOST: "unix:///var/run/docker.sock" });
        assert.match(problem ?? "", /the Docker daemon is not minikube's \(DOCKER_HOST is unix:\/\/\/var\/run\/docker.sock, MINIKUBE_ACTIVE_DOCKERD is not set\)/);
        assert.match(problem ?? "", /eval \$\(minikube -p minikube docker-env\)/);
        assert.match(minikubeDaemonProblem("minikube", {}) ?? "", /DOCKER_HOST is not set/);
        assert.match(minikubeDaemonProblem("minikube", { ...minikubeEnv, MINIKUBE_ACTIVE_DOCKERD: "other" }) ?? "", /profile "other"'s, but this stack deploys to profile "minikube"/);
    });

    it("knows when it runs under mocks, where there is no daemon to check", async () => {
        await runComponent(() => undefined);
        assert.equal(runningUnderMocks(), true);
    });
});

describe("frontend access output", () => {
    const base = { namespace: "todo-chatbot", serviceName: "todo-frontend", servicePort: 80 };
    it("gives the Ingress URL, the minikube service command, or a port-forward", async () => {
        await runComponent(() => undefined);
        assert.deepEqual(await valueOf(frontendAccess({ ...base, serviceType: "ClusterIP", nodePort: undefined, ingressUrl: "https://todo.example.com" })), { url: "https://todo.example.com" });
        assert.deepEqual(await valueOf(frontendAccess({ ...base, serviceType: "NodePort", nodePort: 30080, minikubeProfile: "minikube" })), {
            nodePort: 30080,
            command: "minikube service todo-frontend -n todo-chatbot --url",
        });
        assert.match((await valueOf(frontendAccess({ ...base, serviceType: "NodePort", nodePort: 30080, minikubeProfile: "p2" }))).command!, /^minikube service -p p2 /);
        assert.match((await valueOf(frontendAccess({ ...base, serviceType: "ClusterIP", nodePort: undefined }))).command!, /^kubectl port-forward -n todo-chatbot svc\/todo-frontend 8080:80/);
    });
});

describe("every container the components create", () => {
    it("has requests, limits and the restricted security context", async () => {
        const { objects } = await runComponent(() => {
            new WebService("api", { namespace: "ns", instance: "t", serviceName: "a", component: "a", image: "a:1", containerPort: 1, initContainers: [{ name: "i", command: ["x"] }] });
            new Postgres("pg", { namespace: "ns", instance: "t", passwordSecretName: "s" });
        });
        const containers = objects.filter((o) => o.spec?.template).flatMap(containersOf);
        assert.equal(containers.length, 3);
        for (const c of containers) {
            assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory, c.name);
            for (const [k, v] of Object.entries(RESTRICTED)) assert.deepEqual(c.securityContext[k], v, `${c.name}.${k}`);
        }
    });
});
