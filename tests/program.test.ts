// The whole program, once per real stack file, under mocks (through the
// offline render): Kubernetes schema validation and manifest checks.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseAllDocuments } from "yaml";
import { ConfigError, hostPlatform } from "../components/settings";
import { loadStackConfig, renderStack, type RenderResult } from "../render";
import { installMocks, settle } from "../render/mocks";
import { ROOT, containersOf, find, projectCopy, workloads, writeFiles } from "./helpers";

const EXTERNAL_DB = "postgresql://neon-user:neon-pass-1f2e3d@ep-cool-1.eu-central-1.aws.neon.tech/todo?sslmode=require";

/** Validates one object against the Kubernetes OpenAPI schema (kubernetes-models). */
function validateSchema(object: any): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const models = require(`kubernetes-models/${object.apiVersion}`);
    const Model = models[object.kind];
    assert.ok(Model, `kubernetes-models has no ${object.apiVersion} ${object.kind}`);
    new Model(object).validate();
}

const isSubset = (subset: Record<string, string>, of: Record<string, string>) => Object.entries(subset).every(([k, v]) => of?.[k] === v);
const podLabels = (w: any) => w.spec.template.metadata.labels;
const key = (o: any) => `${o.kind}/${o.metadata.name}`;

/** Every manifest rule from the issue, asserted on one rendered stack. */
function checkManifests(result: RenderResult, stack: string): void {
    const { objects } = result;
    const all = workloads(objects);
    assert.ok(all.length >= 2, `${stack}: workloads`);

    for (const w of all) {
        assert.ok(isSubset(w.spec.selector.matchLabels, podLabels(w)), `${key(w)}: selector is a subset of the template labels`);
        const containers = containersOf(w);
        for (const c of containers) {
            const where = `${key(w)} container ${c.name}`;
            for (const field of ["requests", "limits"]) {
                assert.ok(c.resources?.[field]?.cpu && c.resources?.[field]?.memory, `${where}: ${field}`);
            }
            const sc = c.securityContext;
            assert.equal(sc.runAsNonRoot, true, `${where}: runAsNonRoot`);
            assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
            assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
            assert.deepEqual(sc.capabilities, { drop: ["ALL"] }, `${where}: capabilities`);
            assert.deepEqual(sc.seccompProfile, { type: "RuntimeDefault" }, `${where}: seccomp`);
            assert.ok(!/:latest$/.test(c.image), `${where}: no :latest (${c.image})`);
            assert.ok(/^[^@]+:[^/:@]+$|@sha256:[0-9a-f]{64}$/.test(c.image), `${where}: tagged or pinned by digest (${c.image})`);
            for (const env of c.env ?? []) {
                assert.ok(env.value === undefined || !/SECRET|PASSWORD|KEY|DATABASE_URL/.test(env.name), `${where}: ${env.name} must come from a Secret`);
            }
        }
        const pod = w.spec.template.spec;
        assert.equal(pod.automountServiceAccountToken, false, `${key(w)}: no service-account token`);
        assert.equal(pod.securityContext.runAsNonRoot, true, `${key(w)}: pod runAsNonRoot`);
        for (const c of pod.containers) {
            const ports = c.ports.flatMap((p: any) => [p.name, p.containerPort]);
            for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
                assert.ok(c[probe], `${key(w)} ${c.name}: ${probe}`);
                const port = c[probe].httpGet?.port;
                if (port !== undefined) assert.ok(ports.includes(port), `${key(w)} ${c.name}: ${probe} port ${port} is declared`);
            }
        }
        if (w.kind === "Deployment") {
            assert.equal(w.spec.strategy.rollingUpdate.maxUnavailable, 0, `${key(w)}: maxUnavailable 0`);
            assert.ok(pod.containers[0].lifecycle?.preStop, `${key(w)}: preStop`);
        }
    }

    for (const service of objects.filter((o) => o.kind === "Service")) {
        const selected = all.filter((w) => isSubset(service.spec.selector, podLabels(w)));
        assert.equal(selected.length, 1, `${key(service)} selects exactly one workload`);
        const ports = selected[0].spec.template.spec.containers.flatMap((c: any) => c.ports.flatMap((p: any) => [p.name, p.containerPort]));
        for (const p of service.spec.ports) assert.ok(ports.includes(p.targetPort), `${key(service)}: targetPort ${p.targetPort} is a container port`);
    }
    for (const pdb of objects.filter((o) => o.kind === "PodDisruptionBudget")) {
        assert.equal(all.filter((w) => isSubset(pdb.spec.selector.matchLabels, podLabels(w))).length, 1, `${key(pdb)} selects one workload`);
    }
    for (const policy of objects.filter((o) => o.kind === "NetworkPolicy")) {
        const selector = policy.spec.podSelector.matchLabels;
        if (selector) assert.equal(all.filter((w) => isSubset(selector, podLabels(w))).length, 1, `${key(policy)} selects one workload`);
    }
    for (const o of objects) {
        for (const label of ["name", "instance", "component", "part-of", "managed-by"]) {
            assert.ok(o.metadata.labels?.[`app.kubernetes.io/${label}`], `${key(o)}: app.kubernetes.io/${label}`);
        }
        if (o.kind !== "Namespace") assert.ok(o.metadata.namespace, `${key(o)}: namespaced`);
    }
}

/** Every secret value in the rendered Secret must appear nowhere else. */
function assertSecretsStayInSecret(result: RenderResult): string[] {
    const secret = result.objects.find((o) => o.kind === "Secret");
    const values = Object.values<string>(secret.stringData);
    assert.ok(values.length >= 2);
    const elsewhere = JSON.stringify({
        objects: result.objects.filter((o) => o !== secret),
        outputs: result.outputs,
        images: result.images,
        resources: result.resources.filter((r) => r.type !== "kubernetes:core/v1:Secret" && !r.type.startsWith("random:")),
    });
    for (const value of values) {
        assert.ok(value.length >= 8, "a real value was revealed");
        assert.ok(!elsewhere.includes(value), `a secret value leaked outside the Secret: ${value.slice(0, 4)}…`);
    }
    return values;
}

describe("program: minikube stack (Pulumi.minikube.yaml)", () => {
    let result: RenderResult;
    before(async () => {
        result = await renderStack({ stack: "minikube" });
    });

    it("every object validates against the Kubernetes OpenAPI schema", () => {
        assert.ok(result.objects.length >= 15);
        for (const o of result.objects) validateSchema(o);
    });

    it("passes every manifest check", () => checkManifests(result, "minikube"));

    it("creates the contract objects", () => {
        assert.deepEqual(result.objects.map(key), [
            "Namespace/todo-chatbot",
            "NetworkPolicy/todo-chatbot-allow-dns",
            "NetworkPolicy/todo-chatbot-backend",
            "NetworkPolicy/todo-chatbot-default-deny",
            "NetworkPolicy/todo-chatbot-frontend",
            "NetworkPolicy/todo-chatbot-postgres",
            "Secret/todo-chatbot-secrets",
            "ConfigMap/todo-chatbot-config",
            "Service/todo-backend",
            "Service/todo-frontend",
            "Service/todo-postgres",
            "Service/todo-postgres-headless",
            "StatefulSet/todo-postgres",
            "Deployment/todo-backend",
            "Deployment/todo-frontend",
            "PodDisruptionBudget/todo-frontend",
        ]);
    });

    it("exposes the frontend on NodePort 30080 and keeps the backend internal", () => {
        const frontend = find(result.objects, "Service", "todo-frontend");
        assert.equal(frontend.spec.type, "NodePort");
        assert.deepEqual(frontend.spec.ports[0], { name: "http", port: 80, targetPort: "http", protocol: "TCP", nodePort: 30080 });
        const backend = find(result.objects, "Service", "todo-backend");
        assert.equal(backend.spec.type, "ClusterIP");
        assert.equal(backend.spec.ports[0].port, 8000);
    });

    it("runs images from minikube's daemon: name:tag, never pulled, nothing pushed", () => {
        for (const app of ["backend", "frontend"] as const) {
            const [container] = find(result.objects, "Deployment", `todo-${app}`).spec.template.spec.containers;
            const build = result.images.find((i) => i.app === app)!;
            assert.equal(container.image, build.imageName);
            assert.match(container.image, new RegExp(`^todo-${app}:[0-9a-f]{20}$`));
            assert.equal(container.imagePullPolicy, "Never");
            assert.equal(build.context, path.join(ROOT, "app", app));
            assert.equal(build.dockerfile, path.join(ROOT, "app", app, "Dockerfile"));
            assert.equal(build.platform, hostPlatform(), "minikube's node runs on this machine (arm64 on Apple silicon)");
            // On an amd64 machine the default would give the same platform: check the stack asks for "this machine's".
            assert.equal(loadStackConfig({ stack: "minikube" }).values["todo-chatbot:imagePlatform"], "");
            assert.deepEqual(build.args, {}, "no build args, let alone secret ones");
        }
        const images = result.resources.filter((r) => r.type === "docker:index/image:Image");
        assert.ok(images.every((r) => r.inputs.skipPush === true));
    });

    it("runs migrations in an init container before the backend starts", () => {
        const pod = find(result.objects, "Deployment", "todo-backend").spec.template.spec;
        assert.deepEqual(pod.initContainers.map((c: any) => [c.name, c.command]), [["migrate", ["node", "dist/migrate.js"]]]);
        assert.equal(pod.initContainers[0].image, pod.containers[0].image);
    });

    it("probes the backend on /health and /ready, the frontend on /health", () => {
        const probe = (app: string, kind: string) => find(result.objects, "Deployment", `todo-${app}`).spec.template.spec.containers[0][kind].httpGet.path;
        assert.equal(probe("backend", "livenessProbe"), "/health");
        assert.equal(probe("backend", "readinessProbe"), "/ready");
        assert.equal(probe("frontend", "readinessProbe"), "/health");
    });

    it("gives each app exactly its writable paths", () => {
        const mounts = (app: string) => find(result.objects, "Deployment", `todo-${app}`).spec.template.spec.containers[0].volumeMounts.map((m: any) => m.mountPath);
        assert.deepEqual(mounts("backend"), ["/tmp"]);
        assert.deepEqual(mounts("frontend"), ["/app/.next/cache", "/tmp"]);
    });

    it("wires config by configMapKeyRef and secrets by secretKeyRef, BETTER_AUTH_URL left to the backend", () => {
        const config = find(result.objects, "ConfigMap", "todo-chatbot-config");
        assert.deepEqual(config.data, { PORT: "8000", LOG_LEVEL: "info", LLM_PROVIDER: "builtin", BACKEND_URL: "http://todo-backend:8000" });
        const env = find(result.objects, "Deployment", "todo-backend").spec.template.spec.containers[0].env;
        const refs = Object.fromEntries(env.map((e: any) => [e.name, e.valueFrom.configMapKeyRef ? "config" : "secret"]));
        assert.deepEqual(refs, { PORT: "config", LOG_LEVEL: "config", LLM_PROVIDER: "config", BETTER_AUTH_SECRET: "secret", DATABASE_URL: "secret" });
        assert.deepEqual(Object.keys(find(result.objects, "Secret", "todo-chatbot-secrets").stringData), ["BETTER_AUTH_SECRET", "DATABASE_URL", "POSTGRES_PASSWORD"]);
    });

    it("masks every secret value in placeholder mode", () => {
        const secret = find(result.objects, "Secret", "todo-chatbot-secrets");
        assert.ok(Object.values(secret.stringData).every((v) => v === "<secret>"));
    });

    it("uses explicit providers for every resource (default providers are disabled in the stack file)", () => {
        const custom = result.resources.filter((r) => !r.type.startsWith("pulumi:providers:") && !r.type.startsWith("todo-chatbot:"));
        assert.ok(custom.length > 10);
        const providers = result.resources.filter((r) => r.type.startsWith("pulumi:providers:"));
        assert.deepEqual(providers.map((p) => p.type).sort(), ["pulumi:providers:docker", "pulumi:providers:kubernetes", "pulumi:providers:random"]);
        const kube = providers.find((p) => p.type === "pulumi:providers:kubernetes")!;
        assert.equal(kube.inputs.context, "minikube");
        // Each resource names its package's explicit provider (a provider reference is "<urn>::<id>"):
        // one without would fall back to a default provider, which the stack file disables.
        for (const r of custom) {
            const pkg = r.type.split(":")[0];
            assert.match(r.provider ?? "", new RegExp(`[$:]pulumi:providers:${pkg}::[^:]+::[^:]+$`), `${r.type} ${r.name} uses the explicit ${pkg} provider`);
        }
    });

    it("outputs how to reach the app, the service addresses and the image references, and no secret", () => {
        assert.equal(result.outputs.namespace, "todo-chatbot");
        assert.deepEqual(result.outputs.frontend, { nodePort: 30080, command: "minikube service todo-frontend -n todo-chatbot --url" });
        assert.deepEqual(result.outputs.services, {
            backend: "todo-backend.todo-chatbot.svc.cluster.local:8000",
            frontend: "todo-frontend.todo-chatbot.svc.cluster.local:80",
            postgres: "todo-postgres.todo-chatbot.svc.cluster.local:5432",
        });
        assert.deepEqual(result.outputs.images, { backend: result.images[0].imageName, frontend: result.images[1].imageName });
        assert.ok(!JSON.stringify(result.outputs).includes("<secret>"));
    });

    it("does not check the Docker daemon under mocks, whatever the environment says", async () => {
        const saved = { DOCKER_HOST: process.env.DOCKER_HOST, MINIKUBE_ACTIVE_DOCKERD: process.env.MINIKUBE_ACTIVE_DOCKERD };
        process.env.DOCKER_HOST = "unix:///var/run/docker.sock";
        delete process.env.MINIKUBE_ACTIVE_DOCKERD;
        try {
            await renderStack({ stack: "minikube" });
        } finally {
            for (const [k, v] of Object.entries(saved)) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        }
    });
});

describe("program: dev stack (Pulumi.dev.yaml)", () => {
    let result: RenderResult;
    before(async () => {
        result = await renderStack({ stack: "dev", config: { databaseUrl: EXTERNAL_DB } });
    });

    it("every object validates against the Kubernetes OpenAPI schema", () => {
        for (const o of result.objects) validateSchema(o);
    });

    it("passes every manifest check", () => checkManifests(result, "dev"));

    it("runs two replicas of each app, with PodDisruptionBudgets and topology spread", () => {
        for (const app of ["backend", "frontend"]) {
            const deployment = find(result.objects, "Deployment", `todo-${app}`);
            assert.equal(deployment.spec.replicas, 2);
            assert.ok(deployment.spec.template.spec.topologySpreadConstraints);
            find(result.objects, "PodDisruptionBudget", `todo-${app}`);
        }
    });

    it("uses the external database: no PostgreSQL objects, DATABASE_URL from config", async () => {
        assert.equal(result.objects.filter((o) => /postgres/.test(o.metadata.name)).length, 0);
        const revealed = await renderStack({ stack: "dev", config: { databaseUrl: EXTERNAL_DB }, secrets: "reveal" });
        const data = find(revealed.objects, "Secret", "todo-chatbot-secrets").stringData;
        assert.equal(data.DATABASE_URL, EXTERNAL_DB);
        assert.equal(data.POSTGRES_PASSWORD, undefined);
        assertSecretsStayInSecret(revealed);
        const egress = find(revealed.objects, "NetworkPolicy", "todo-chatbot-backend").spec.egress;
        assert.deepEqual(egress.at(-1).ports, [{ protocol: "TCP", port: 5432 }]);
    });

    it("pushes images to the registry and runs the pushed digests", () => {
        for (const app of ["backend", "frontend"]) {
            const [container] = find(result.objects, "Deployment", `todo-${app}`).spec.template.spec.containers;
            assert.match(container.image, new RegExp(`^registry\\.example\\.com/todo-chatbot/todo-${app}@sha256:[0-9a-f]{64}$`));
            assert.equal(container.imagePullPolicy, "IfNotPresent");
        }
        const images = result.resources.filter((r) => r.type === "docker:index/image:Image");
        assert.ok(images.every((r) => r.inputs.skipPush === false && /^registry\.example\.com\/todo-chatbot\/todo-(backend|frontend):[0-9a-f]{20}$/.test(r.inputs.imageName)));
    });

    it("serves through an Ingress with TLS, and sets BETTER_AUTH_URL to its origin", () => {
        const ingress = find(result.objects, "Ingress", "todo-chatbot");
        assert.deepEqual(ingress.spec.tls, [{ hosts: ["todo.dev.example.com"], secretName: "todo-chatbot-tls" }]);
        assert.equal(find(result.objects, "ConfigMap", "todo-chatbot-config").data.BETTER_AUTH_URL, "https://todo.dev.example.com");
        assert.equal(find(result.objects, "Service", "todo-frontend").spec.type, "ClusterIP");
        assert.deepEqual(result.outputs.frontend, { url: "https://todo.dev.example.com" });
        const backendPolicy = find(result.objects, "NetworkPolicy", "todo-chatbot-backend").spec;
        assert.ok(backendPolicy.ingress.some((r: any) => r.from[0].namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === "ingress-nginx"));
    });

    it("protects the namespace from `pulumi destroy` (protectData)", () => {
        const ns = result.resources.find((r) => r.type === "kubernetes:core/v1:Namespace")!;
        assert.equal(ns.protect, true);
        const minikubeNs = loadStackConfig({ stack: "minikube" }).values["todo-chatbot:protectData"];
        assert.equal(minikubeNs, "false", "minikube keeps the Pulumi.yaml default");
    });

    it("renders with a placeholder database URL when none is given, and says so", async () => {
        const placeholder = await renderStack({ stack: "dev" });
        assert.equal(find(placeholder.objects, "Secret", "todo-chatbot-secrets").stringData.DATABASE_URL, "<secret>");
        assert.deepEqual(loadStackConfig({ stack: "dev" }).notes, ["todo-chatbot:databaseUrl is required by this stack but not set: a placeholder stands in for it"]);
    });

    it("stands in for a secret the stack file holds encrypted, and needs it given to reveal", async () => {
        const root = projectCopy({});
        fs.appendFileSync(path.join(root, "Pulumi.dev.yaml"), "  todo-chatbot:databaseUrl:\n    secure: v1:c2FsdA==:ZW5jcnlwdGVk\n");
        const config = loadStackConfig({ stack: "dev", projectRoot: root });
        assert.deepEqual(config.notes, ["todo-chatbot:databaseUrl is encrypted in the stack file: a placeholder stands in for it"]);
        assert.ok(config.secretKeys.includes("todo-chatbot:databaseUrl"));
        const placeholder = await renderStack({ stack: "dev", projectRoot: root });
        assert.equal(find(placeholder.objects, "Secret", "todo-chatbot-secrets").stringData.DATABASE_URL, "<secret>");
        await assert.rejects(renderStack({ stack: "dev", projectRoot: root, secrets: "reveal" }), /holds an encrypted todo-chatbot:databaseUrl, which the render cannot decrypt: pass it in RenderOptions.config/);
        const revealed = await renderStack({ stack: "dev", projectRoot: root, secrets: "reveal", config: { databaseUrl: EXTERNAL_DB } });
        assert.equal(find(revealed.objects, "Secret", "todo-chatbot-secrets").stringData.DATABASE_URL, EXTERNAL_DB);
    });

    it("refuses to reveal secrets it does not have", async () => {
        await assert.rejects(renderStack({ stack: "dev", secrets: "reveal" }), /databaseUrl is not set: it is required when postgres.enabled is false/);
    });
});

describe("program: toggles add and remove exactly their objects", () => {
    const keys = (r: RenderResult) => new Set(r.objects.map(key));
    const diff = (a: Set<string>, b: Set<string>) => [...a].filter((k) => !b.has(k)).sort();

    it("postgres.enabled adds the StatefulSet, its two Services and its NetworkPolicy", async () => {
        const on = await renderStack({ stack: "minikube" });
        const off = await renderStack({ stack: "minikube", config: { postgres: { enabled: false }, databaseUrl: EXTERNAL_DB } });
        assert.deepEqual(diff(keys(on), keys(off)), [
            "NetworkPolicy/todo-chatbot-postgres",
            "Service/todo-postgres",
            "Service/todo-postgres-headless",
            "StatefulSet/todo-postgres",
        ]);
        assert.deepEqual(diff(keys(off), keys(on)), []);
        for (const o of off.objects) validateSchema(o);
        checkManifests(off, "minikube without postgres");
    });

    it("ingress.enabled adds the Ingress", async () => {
        const off = await renderStack({ stack: "minikube" });
        const on = await renderStack({ stack: "minikube", config: { ingress: { enabled: true } } });
        assert.deepEqual(diff(keys(on), keys(off)), ["Ingress/todo-chatbot"]);
        assert.deepEqual(diff(keys(off), keys(on)), []);
        assert.equal(find(on.objects, "Ingress", "todo-chatbot").spec.rules[0].host, "todo.local");
    });

    it("autoscaling adds a HorizontalPodAutoscaler", async () => {
        const on = await renderStack({ stack: "minikube", config: { backend: { autoscaling: { enabled: true } } } });
        assert.deepEqual(diff(keys(on), keys(await renderStack({ stack: "minikube" }))), ["HorizontalPodAutoscaler/todo-backend", "PodDisruptionBudget/todo-backend"]);
        for (const o of on.objects) validateSchema(o);
    });
});

describe("program: secrets never leave the Secret", () => {
    it("generated and user-given values appear only in the Secret", async () => {
        const result = await renderStack({
            stack: "minikube",
            secrets: "reveal",
            config: { llm: { provider: "openai", model: "gpt-4o-mini" }, openaiApiKey: "sk-test-unique-7c1d9e" },
        });
        const values = assertSecretsStayInSecret(result);
        assert.ok(values.includes("sk-test-unique-7c1d9e"));
        assert.equal(values.length, 4, "BETTER_AUTH_SECRET, DATABASE_URL, OPENAI_API_KEY, POSTGRES_PASSWORD");
    });
});

describe("program: pods roll when what they run or read changes", () => {
    const apps = {
        backend: { Dockerfile: "FROM node:24-bookworm-slim\n", "src/server.ts": "export {};\n", ".dockerignore": "node_modules\n" },
        frontend: { Dockerfile: "FROM node:24-bookworm-slim\n", "app/page.tsx": "export default 1;\n" },
    };
    const template = (r: RenderResult, app: string) => find(r.objects, "Deployment", `todo-${app}`).spec.template;

    it("a change to an app's source changes that app's image reference, and only that one", async () => {
        const root = projectCopy(apps);
        const before = await renderStack({ stack: "minikube", projectRoot: root });
        assert.equal(JSON.stringify(template(await renderStack({ stack: "minikube", projectRoot: root }), "backend")), JSON.stringify(template(before, "backend")), "stable without a change");
        writeFiles(path.join(root, "app/backend"), { "src/server.ts": "export const changed = true;\n" });
        const after = await renderStack({ stack: "minikube", projectRoot: root });
        const image = (r: RenderResult, app: string) => template(r, app).spec.containers[0].image;
        assert.notEqual(image(after, "backend"), image(before, "backend"));
        assert.equal(image(after, "frontend"), image(before, "frontend"));
        assert.equal(template(after, "backend").spec.initContainers[0].image, image(after, "backend"), "migrations run the new image too");
        // An ignored file does not.
        writeFiles(path.join(root, "app/backend"), { "node_modules/x/index.js": "1" });
        assert.equal(image(await renderStack({ stack: "minikube", projectRoot: root }), "backend"), image(after, "backend"));
    });

    it("a config change changes the pod template of the pods that read it", async () => {
        const base = await renderStack({ stack: "minikube" });
        const debug = await renderStack({ stack: "minikube", config: { logLevel: "debug" } });
        const checksum = (r: RenderResult, app: string) => template(r, app).metadata.annotations["checksum/config"];
        assert.notEqual(checksum(debug, "backend"), checksum(base, "backend"));
        assert.equal(checksum(debug, "frontend"), checksum(base, "frontend"));
        assert.ok(template(base, "backend").metadata.annotations["checksum/secret"], "backend also rolls on Secret changes");
    });
});

describe("program: bad configuration", () => {
    it("fails before any resource is registered, listing every problem", async () => {
        const config = loadStackConfig({ stack: "minikube", config: { namespace: "Not_Valid", frontend: { replicas: 0 }, llm: { provider: "gpt" } } });
        const mocks = await installMocks({ project: "todo-chatbot", stack: "minikube" });
        pulumi.runtime.setAllConfig(config.values, config.secretKeys);
        const program = require.resolve(path.join(ROOT, "index.ts"));
        delete require.cache[program];
        await assert.rejects(
            pulumi.runtime.runInPulumiStack(async () => require(program)),
            (err: unknown) => {
                assert.ok(err instanceof ConfigError, String(err));
                assert.deepEqual(err.problems.map((p) => p.key).sort(), ["frontend.replicas", "llm.provider", "namespace"]);
                return true;
            },
        );
        await settle();
        assert.deepEqual(mocks.resources.map((r) => r.type), ["pulumi:pulumi:Stack"]);
    });

    it("names a missing stack file and lists the stacks there are", async () => {
        await assert.rejects(renderStack({ stack: "prod" }), /no stack file .*Pulumi\.prod\.yaml; stacks here: dev, minikube/);
    });
});

describe("npm run render", () => {
    it("prints every object as multi-document YAML with secrets masked", () => {
        const out = execFileSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "render/cli.ts", "minikube"], {
            cwd: ROOT,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
        const docs = parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
        assert.ok(docs.length >= 15);
        assert.ok(docs.every((d) => d.apiVersion && d.kind && d.metadata.name));
        assert.ok(Object.values(docs.find((d) => d.kind === "Secret").stringData).every((v) => v === "<secret>"));
        for (const d of docs) validateSchema(d);
    });

    it("reports a config problem on stderr and exits non-zero", () => {
        assert.throws(
            () => execFileSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "render/cli.ts", "minikube", "--set", "namespace=Bad"], { cwd: ROOT, encoding: "utf8", stdio: "pipe" }),
            (err: any) => {
                assert.equal(err.status, 1);
                assert.match(err.stderr, /render failed: invalid configuration \(1 problem\):\n {2}- namespace = "Bad" is invalid: expected a DNS-1123 label/);
                return true;
            },
        );
    });
});
