import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError, DEFAULTS, SECRET_KEYS, checkSettings, parseQuantity, parseSettings } from "../components/settings";
import { ROOT } from "./helpers";

/** Raw config as Pulumi passes it: objects as JSON text. */
function raw(values: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function problemsOf(values: Record<string, unknown>): string[] {
    return checkSettings(raw(values)).problems.map((p) => p.message);
}

/** Asserts exactly one problem, containing every fragment. */
function expectProblem(values: Record<string, unknown>, ...fragments: string[]): string {
    const problems = problemsOf(values);
    assert.equal(problems.length, 1, `expected one problem, got: ${JSON.stringify(problems, null, 2)}`);
    for (const fragment of fragments) assert.ok(problems[0].includes(fragment), `"${problems[0]}" lacks "${fragment}"`);
    return problems[0];
}

describe("settings: parsing and defaults", () => {
    it("accepts an empty config and fills every default", () => {
        const s = parseSettings({});
        assert.equal(s.kubeContext, "minikube");
        assert.equal(s.namespace, "todo-chatbot");
        assert.equal(s.imageRegistry, undefined);
        assert.equal(s.backend.replicas, 1);
        assert.equal(s.frontend.replicas, 2);
        assert.deepEqual(s.backend.resources, DEFAULTS.backend.resources);
        assert.equal(s.postgres.enabled, true);
        assert.equal(s.postgres.version, "17");
        assert.equal(s.ingress.enabled, false);
        assert.equal(s.llm.provider, "builtin");
        assert.equal(s.protectData, false);
    });

    it("merges an object field by field over its default", () => {
        const s = parseSettings(raw({ frontend: { serviceType: "NodePort", nodePort: 30080, resources: { limits: { memory: "1Gi" } } } }));
        assert.equal(s.frontend.replicas, 2, "replicas keeps its default");
        assert.equal(s.frontend.nodePort, 30080);
        assert.deepEqual(s.frontend.resources, {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "1Gi" },
        });
    });

    it("reads booleans and integers given as strings, as `pulumi config set` stores them", () => {
        const s = parseSettings({ protectData: "true", authSecretGeneration: "3" });
        assert.equal(s.protectData, true);
        assert.equal(s.authSecretGeneration, 3);
    });

    it("parses Kubernetes quantities", () => {
        assert.equal(parseQuantity("500m"), 0.5);
        assert.equal(parseQuantity("2"), 2);
        assert.equal(parseQuantity("1Gi"), 2 ** 30);
        assert.equal(parseQuantity("1G"), 1e9);
        assert.equal(parseQuantity("1.5Mi"), 1.5 * 2 ** 20);
        assert.equal(parseQuantity("1e3"), 1000);
        assert.equal(parseQuantity("lots"), undefined);
        assert.equal(parseQuantity("-1Gi"), undefined);
        assert.equal(parseQuantity("1 Gi"), undefined);
    });
});

describe("settings: every validation message names the key, the value and what is allowed", () => {
    it("unknown top-level key", () => {
        expectProblem({ postgress: { enabled: false } }, "todo-chatbot:postgress", "is not a known setting", "postgres");
    });
    it("unknown field inside an object", () => {
        expectProblem({ backend: { replica: 2 } }, "backend.replica", "is not a known setting", "replicas");
    });
    it("an object key given a scalar", () => {
        expectProblem({ backend: 3 }, "backend = 3", "expected an object");
    });
    it("replica count out of range", () => {
        expectProblem({ backend: { replicas: 0 } }, "backend.replicas = 0", "an integer from 1 to 50");
        expectProblem({ frontend: { replicas: 51 } }, "frontend.replicas = 51", "an integer from 1 to 50");
        expectProblem({ frontend: { replicas: 1.5 } }, "frontend.replicas = 1.5", "an integer");
        expectProblem({ frontend: { replicas: "two" } }, 'frontend.replicas = "two"', "an integer");
    });
    it("NodePort outside the node-port range", () => {
        expectProblem({ frontend: { serviceType: "NodePort", nodePort: 80 } }, "frontend.nodePort = 80", "30000 to 32767");
    });
    it("nodePort on a ClusterIP service", () => {
        expectProblem({ frontend: { nodePort: 30080 } }, "frontend.nodePort = 30080", "serviceType NodePort or LoadBalancer");
    });
    it("service port out of range", () => {
        expectProblem({ frontend: { servicePort: 70000 } }, "frontend.servicePort = 70000", "1 to 65535");
    });
    it("a backend exposed outside the cluster", () => {
        expectProblem({ backend: { serviceType: "NodePort" } }, 'backend.serviceType = "NodePort"', "expected ClusterIP");
        expectProblem({ backend: { serviceType: "LoadBalancer" } }, 'backend.serviceType = "LoadBalancer"', "forge the X-Forwarded-For");
        expectProblem({ backend: { nodePort: 30081 } }, "backend.nodePort = 30081", "the backend takes no nodePort");
        assert.equal(parseSettings(raw({ backend: { serviceType: "ClusterIP" } })).backend.serviceType, "ClusterIP");
    });
    it("unknown service type", () => {
        expectProblem({ backend: { serviceType: "Ingress" } }, 'backend.serviceType = "Ingress"', "ClusterIP, NodePort, LoadBalancer");
    });
    it("resource quantity that does not parse", () => {
        expectProblem({ backend: { resources: { requests: { cpu: "lots" } } } }, 'backend.resources.requests.cpu = "lots"', "250m");
        expectProblem({ backend: { resources: { limits: { memory: "-1Gi" } } } }, 'backend.resources.limits.memory = "-1Gi"', "256Mi");
        expectProblem({ postgres: { resources: { requests: { memory: "0" } } } }, 'postgres.resources.requests.memory = "0"', "positive");
    });
    it("request above its limit", () => {
        expectProblem(
            { backend: { resources: { requests: { memory: "1Gi" } } } },
            'backend.resources.requests.memory = "1Gi"',
            'at most backend.resources.limits.memory ("512Mi")',
        );
        expectProblem(
            { frontend: { resources: { requests: { cpu: "2" }, limits: { cpu: "1500m" } } } },
            "frontend.resources.requests.cpu",
            "cannot exceed its limit",
        );
    });
    it("unknown field in resources", () => {
        expectProblem({ backend: { resources: { request: {} } } }, "backend.resources.request", "requests, limits");
    });
    it("autoscaling bounds", () => {
        expectProblem({ backend: { autoscaling: { minReplicas: 4, maxReplicas: 3 } } }, "backend.autoscaling.maxReplicas = 3", "at least backend.autoscaling.minReplicas (4)");
        expectProblem({ backend: { autoscaling: { targetCPUUtilizationPercentage: 0 } } }, "backend.autoscaling.targetCPUUtilizationPercentage = 0", "1 to 100");
        expectProblem({ frontend: { autoscaling: { enabled: "yes" } } }, 'frontend.autoscaling.enabled = "yes"', "true or false");
    });
    it("namespace that is not a DNS-1123 label", () => {
        expectProblem({ namespace: "Todo_Chatbot" }, 'namespace = "Todo_Chatbot"', "DNS-1123 label");
        expectProblem({ namespace: "a".repeat(64) }, "namespace", "at most 63");
        expectProblem({ namespace: "" }, 'namespace = ""', "DNS-1123 label");
    });
    it("ingress host, class, TLS secret, annotations and controller namespace", () => {
        expectProblem({ ingress: { host: "bad_host" } }, 'ingress.host = "bad_host"', "DNS-1123 subdomain");
        expectProblem({ ingress: { host: "" } }, 'ingress.host = ""', "a host name");
        expectProblem({ ingress: { className: "Nginx!" } }, 'ingress.className = "Nginx!"', "DNS-1123 subdomain");
        expectProblem({ ingress: { tlsSecretName: "TLS" } }, 'ingress.tlsSecretName = "TLS"', "DNS-1123 subdomain");
        expectProblem({ ingress: { annotations: { a: 1 } } }, 'ingress.annotations = {"a":1}', "string values");
        expectProblem({ ingress: { controllerNamespace: "ingress.nginx" } }, 'ingress.controllerNamespace = "ingress.nginx"', "DNS-1123 label");
    });
    it("image registry syntax", () => {
        for (const bad of ["https://ghcr.io/acme", "ghcr.io/Acme", "ghcr.io/acme:v1", "ghcr.io/acme@sha256:abc", "ghcr.io//acme"]) {
            expectProblem({ imageRegistry: bad }, `imageRegistry = ${JSON.stringify(bad)}`, "without scheme, tag or digest");
        }
        for (const good of ["ghcr.io/acme", "registry.local:5000/todo", "localhost:5000", "docker.io/acme/todo-chatbot"]) {
            assert.deepEqual(problemsOf({ imageRegistry: good }), [], good);
        }
    });
    it("image platform", () => {
        expectProblem({ imagePlatform: "windows/amd64" }, 'imagePlatform = "windows/amd64"', "linux/amd64, linux/arm64");
        expectProblem({ imagePlatform: "windows/amd64" }, 'imagePlatform = "windows/amd64"', `or "" for this machine's platform`);
        assert.equal(parseSettings(raw({})).imagePlatform, "linux/amd64");
        // "" names this machine's platform explicitly (minikube's node runs here).
        assert.equal(parseSettings(raw({ imagePlatform: "" }), "arm64").imagePlatform, "linux/arm64");
        assert.equal(parseSettings(raw({ imagePlatform: "" }), "x64").imagePlatform, "linux/amd64");
        assert.deepEqual(
            checkSettings(raw({ imagePlatform: "" }), "riscv64").problems.map((p) => p.message),
            ['imagePlatform = "" is invalid: expected a platform named explicitly on this riscv64 machine: one of linux/amd64, linux/arm64, linux/arm/v7, linux/ppc64le, linux/s390x'],
        );
    });
    it("storage size", () => {
        expectProblem({ postgres: { storage: "lots" } }, 'postgres.storage = "lots"', "at least 64Mi");
        expectProblem({ postgres: { storage: "1Mi" } }, 'postgres.storage = "1Mi"', "at least 64Mi");
    });
    it("PostgreSQL version (the image tag)", () => {
        expectProblem({ postgres: { version: "latest" } }, 'postgres.version = "latest"', "13 to 18", "postgres:<version>-bookworm");
        expectProblem({ postgres: { version: "12" } }, 'postgres.version = "12"', "13 to 18");
        expectProblem({ postgres: { version: "17-alpine" } }, 'postgres.version = "17-alpine"', "13 to 18");
        assert.equal(parseSettings(raw({ postgres: { version: 16 } })).postgres.version, "16", "a YAML number is read as the version");
        assert.equal(parseSettings(raw({ postgres: { version: "17.6" } })).postgres.version, "17.6");
    });
    it("storage class", () => {
        expectProblem({ postgres: { storageClass: "Fast_SSD" } }, 'postgres.storageClass = "Fast_SSD"', "DNS-1123 subdomain");
    });
    it("LLM provider value", () => {
        expectProblem({ llm: { provider: "anthropic" } }, 'llm.provider = "anthropic"', "builtin, openai, cohere");
    });
    it("LLM base URL and model", () => {
        expectProblem({ llm: { provider: "openai", baseUrl: "ftp://models" }, openaiApiKey: "k" }, 'llm.baseUrl = "ftp://models"', "http:// or https://");
        expectProblem({ llm: { baseUrl: "https://models.local/v1" } }, "llm.baseUrl", "only used with llm.provider openai (it is builtin)");
        expectProblem({ llm: { model: "gpt-4o-mini" } }, 'llm.model = "gpt-4o-mini"', "builtin provider has no model");
    });
    it("log level", () => {
        expectProblem({ logLevel: "verbose" }, 'logLevel = "verbose"', "fatal, error, warn, info, debug, trace, silent");
    });
    it("booleans and integers", () => {
        expectProblem({ protectData: "yes" }, 'protectData = "yes"', "true or false");
        expectProblem({ authSecretGeneration: "0" }, 'authSecretGeneration = "0"', "an integer from 1");
    });
    it("kube context, minikube profile and existing Secret name", () => {
        expectProblem({ kubeContext: " " }, 'kubeContext = " "', "kubeconfig context");
        expectProblem({ minikubeProfile: "my profile" }, 'minikubeProfile = "my profile"', "minikube profile name");
        expectProblem({ existingSecret: "My_Secret" }, 'existingSecret = "My_Secret"', "DNS-1123 subdomain");
    });
});

describe("settings: secrets the chosen options require", () => {
    it("databaseUrl is required when PostgreSQL is off, and says how to set it", () => {
        const { problems } = checkSettings(raw({ postgres: { enabled: false } }));
        assert.equal(problems.length, 1);
        assert.match(problems[0].message, /^databaseUrl is not set: it is required when postgres\.enabled is false/);
        assert.match(problems[0].message, /pulumi config set --secret databaseUrl/);
        assert.equal(problems[0].missingSecret, "databaseUrl");
    });
    it("the chosen LLM provider's API key is required", () => {
        const openai = checkSettings(raw({ llm: { provider: "openai" } })).problems;
        assert.deepEqual(openai.map((p) => p.missingSecret), ["openaiApiKey"]);
        assert.match(openai[0].message, /openaiApiKey is not set: it is required when llm.provider is openai/);
        const cohere = checkSettings(raw({ llm: { provider: "cohere" } })).problems;
        assert.deepEqual(cohere.map((p) => p.missingSecret), ["cohereApiKey"]);
        assert.deepEqual(problemsOf({ llm: { provider: "openai", model: "gpt-4o-mini" }, openaiApiKey: "sk-test" }), []);
    });
    it("a malformed databaseUrl is reported without echoing the secret", () => {
        const secret = "mysql://admin:hunter2@db.example.com/todo";
        const message = expectProblem({ postgres: { enabled: false }, databaseUrl: secret }, "databaseUrl = (secret, not shown)", "postgres:// or postgresql://");
        assert.ok(!message.includes("hunter2") && !message.includes("mysql"), message);
    });
    it("databaseUrl together with in-cluster PostgreSQL is ambiguous", () => {
        expectProblem({ databaseUrl: "postgresql://u:p@h/db" }, "databaseUrl is set while postgres.enabled is true");
    });
    it("secrets given alongside existingSecret would be ignored", () => {
        expectProblem({ existingSecret: "my-secrets", openaiApiKey: "sk-x" }, "openaiApiKey is set but existingSecret", "put it in that Secret");
        assert.deepEqual(problemsOf({ existingSecret: "my-secrets", postgres: { enabled: false }, llm: { provider: "openai" } }), []);
    });
});

describe("settings: problems are reported together", () => {
    it("throws one ConfigError listing every problem", () => {
        assert.throws(
            () => parseSettings(raw({ namespace: "Bad", backend: { replicas: 0 }, postgres: { enabled: false } })),
            (err: unknown) => {
                assert.ok(err instanceof ConfigError);
                assert.equal(err.problems.length, 3);
                assert.match(err.message, /invalid configuration \(3 problems\)/);
                for (const key of ["namespace", "backend.replicas", "databaseUrl"]) assert.ok(err.message.includes(`  - ${key}`), key);
                return true;
            },
        );
    });
});

describe("Pulumi.yaml declares the settings the program reads", () => {
    const project = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    const typeOf = (v: unknown) => (typeof v === "number" ? "integer" : typeof v === "object" ? "object" : typeof v);

    it("every non-secret key with its type, a description and the program's default", () => {
        assert.deepEqual(Object.keys(project.config).sort(), Object.keys(DEFAULTS).sort());
        for (const [key, value] of Object.entries(DEFAULTS)) {
            const decl = project.config[key];
            assert.equal(decl.type, typeOf(value), `${key} type`);
            assert.ok(typeof decl.description === "string" && decl.description.length > 20, `${key} description`);
            assert.deepEqual(decl.default, value, `${key} default`);
        }
    });

    it("secret keys are documented there but not declared (a declared key without default is mandatory)", () => {
        const text = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
        for (const key of SECRET_KEYS) {
            assert.ok(!(key in project.config), `${key} must not be declared`);
            assert.match(text, new RegExp(`#\\s+${key}\\s+\\(string, secret\\)`), `${key} documented`);
        }
    });

    it("both stack files disable default providers and name their kube context", () => {
        for (const stack of ["minikube", "dev"]) {
            const config = parseYaml(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;
            assert.deepEqual(config["pulumi:disable-default-providers"], ["*"], stack);
            assert.ok(config["todo-chatbot:kubeContext"], stack);
        }
    });
});

describe("README", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    it("documents every config key in its table", () => {
        for (const key of [...Object.keys(DEFAULTS), ...SECRET_KEYS]) {
            assert.match(readme, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
        }
    });

    it("names the test command, the deploy command and the apps' READMEs", () => {
        assert.match(readme, /^\.\/scripts\/test\.sh$/m);
        assert.match(readme, /^\.\/scripts\/deploy\.sh minikube /m);
        assert.ok(readme.includes("(app/backend/README.md)") && readme.includes("(app/frontend/README.md)"));
    });
});
