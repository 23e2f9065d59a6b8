// Stack configuration: the one place where `todo-chatbot:*` config is parsed,
// defaulted and validated. Everything else receives typed `Settings`.
//
// Validation runs before any resource is registered and reports every problem
// at once, each naming the key, the value given and what is allowed, so a bad
// stack file can be fixed in one pass. Secret values are never echoed.
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";

/** The Pulumi project name, and so the config namespace (`todo-chatbot:<key>`). */
export const PROJECT = "todo-chatbot";

export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer";
export type LlmProvider = "builtin" | "openai" | "cohere";

export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export interface Autoscaling {
    enabled: boolean;
    minReplicas: number;
    maxReplicas: number;
    targetCPUUtilizationPercentage: number;
}

export interface ServiceSettings {
    replicas: number;
    resources: Resources;
    serviceType: ServiceType;
    /** Only for NodePort/LoadBalancer; undefined lets Kubernetes choose. */
    nodePort?: number;
    /** The Service port (the container port is fixed by the image contract). */
    servicePort: number;
    autoscaling: Autoscaling;
}

export interface PostgresSettings {
    enabled: boolean;
    storage: string;
    storageClass?: string;
    version: string;
    resources: Resources;
}

export interface IngressSettings {
    enabled: boolean;
    host: string;
    className: string;
    tlsSecretName?: string;
    annotations: Record<string, string>;
    controllerNamespace: string;
}

export interface LlmSettings {
    provider: LlmProvider;
    model?: string;
    baseUrl?: string;
}

/** User-given secret values, as plain strings: wrap with pulumi.secret before use. */
export interface SecretSettings {
    databaseUrl?: string;
    openaiApiKey?: string;
    cohereApiKey?: string;
}

export interface Settings {
    kubeContext: string;
    namespace: string;
    imageRegistry?: string;
    imagePlatform: string;
    minikubeProfile?: string;
    logLevel: string;
    backend: ServiceSettings;
    frontend: ServiceSettings;
    postgres: PostgresSettings;
    ingress: IngressSettings;
    llm: LlmSettings;
    protectData: boolean;
    existingSecret?: string;
    authSecretGeneration: number;
    secrets: SecretSettings;
}

/**
 * Defaults of every non-secret key. Pulumi.yaml declares the same values
 * (a test keeps the two equal); objects are merged field by field here, because
 * Pulumi itself replaces a whole object when a stack sets any of its fields.
 */
export const DEFAULTS = {
    kubeContext: "minikube",
    namespace: "todo-chatbot",
    imageRegistry: "",
    imagePlatform: "linux/amd64",
    minikubeProfile: "",
    logLevel: "info",
    backend: {
        replicas: 1,
        serviceType: "ClusterIP",
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        autoscaling: { enabled: false, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
    },
    frontend: {
        replicas: 2,
        serviceType: "ClusterIP",
        servicePort: 80,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        autoscaling: { enabled: false, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
    },
    postgres: {
        enabled: true,
        storage: "1Gi",
        storageClass: "",
        version: "17",
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    },
    ingress: {
        enabled: false,
        host: "todo.local",
        className: "nginx",
        tlsSecretName: "",
        annotations: {},
        controllerNamespace: "ingress-nginx",
    },
    llm: { provider: "builtin", model: "", baseUrl: "" },
    protectData: false,
    existingSecret: "",
    authSecretGeneration: 1,
} as const;

/** Keys that hold secrets: set with `pulumi config set --secret`, never defaulted. */
export const SECRET_KEYS = ["databaseUrl", "openaiApiKey", "cohereApiKey"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

const KNOWN_KEYS = [...Object.keys(DEFAULTS), ...SECRET_KEYS];

/** One thing wrong with the configuration. */
export interface Problem {
    key: string;
    message: string;
    /** A required secret that is not set: the offline render may stand in a placeholder. */
    missingSecret?: SecretKey;
}

/** Thrown before any resource is registered; lists every problem. */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly problems: Problem[]) {
        super(
            `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Placeholder values that pass validation, for the offline render only. */
export const SECRET_PLACEHOLDERS: Record<SecretKey, string> = {
    databaseUrl: "postgresql://placeholder:placeholder@placeholder.invalid:5432/placeholder",
    openaiApiKey: "placeholder-openai-api-key",
    cohereApiKey: "placeholder-cohere-api-key",
};

// ---------------------------------------------------------------------------
// Syntax rules (Kubernetes and Docker reference grammars).

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// Docker distribution reference: domain[:port] followed by lowercase path components.
const REGISTRY_DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const REGISTRY_PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le", "linux/s390x"];
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const SERVICE_TYPES: ServiceType[] = ["ClusterIP", "NodePort", "LoadBalancer"];
const LLM_PROVIDERS: LlmProvider[] = ["builtin", "openai", "cohere"];
// Majors with a `postgres:<version>-bookworm` image that the backend supports.
const POSTGRES_VERSION = /^(1[3-8])(\.[0-9]+)?$/;
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;
const MAX_REPLICAS = 50;

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;
const QUANTITY_SUFFIX: Record<string, number> = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/**
 * The value of a non-negative Kubernetes resource quantity ("500m", "1Gi",
 * "1e3"), or undefined when it does not parse. A float is precise enough to
 * compare requests with limits.
 */
export function parseQuantity(text: string): number | undefined {
    const m = QUANTITY.exec(text);
    if (!m) return undefined;
    const base = Number(m[1]);
    if (m[3] !== undefined) return base * 10 ** Number(m[3]);
    return base * QUANTITY_SUFFIX[m[2] ?? ""];
}

// ---------------------------------------------------------------------------
// Parsing helpers: each reads one value, records a problem when it is wrong
// and returns the default so that checks further down can still run.

class Reader {
    readonly problems: Problem[] = [];

    constructor(private readonly raw: Record<string, string | undefined>) {}

    fail(key: string, value: unknown, allowed: string): void {
        this.problems.push({ key, message: `${key} = ${show(value)} is invalid: expected ${allowed}` });
    }

    note(key: string, message: string, missingSecret?: SecretKey): void {
        this.problems.push({ key, message: `${key} ${message}`, missingSecret });
    }

    /** A top-level object key, merged field by field over its default. */
    object(key: string): Record<string, unknown> {
        const text = this.raw[key];
        if (text === undefined || text === "") return {};
        let value: unknown;
        try {
            value = JSON.parse(text);
        } catch {
            this.fail(key, text, "an object (YAML mapping)");
            return {};
        }
        if (!isPlainObject(value)) {
            this.fail(key, value, "an object (YAML mapping)");
            return {};
        }
        return value;
    }

    /** A top-level scalar as Pulumi passes it: a string. */
    scalar(key: string): string | undefined {
        return this.raw[key];
    }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(value: unknown): string {
    return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function unknownFields(r: Reader, key: string, given: Record<string, unknown>, allowed: readonly string[]): void {
    for (const field of Object.keys(given)) {
        if (!allowed.includes(field)) {
            r.note(`${key}.${field}`, `is not a known setting; ${key} accepts: ${allowed.join(", ")}`);
        }
    }
}

function readString(r: Reader, key: string, value: unknown, fallback: string): string {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string") {
        r.fail(key, value, "a string");
        return fallback;
    }
    return value;
}

function readBool(r: Reader, key: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (value === true || value === "true") return true;
    if (value === false || value === "false") return false;
    r.fail(key, value, "true or false");
    return fallback;
}

function readInt(r: Reader, key: string, value: unknown, fallback: number, min: number, max: number): number {
    if (value === undefined || value === null) return fallback;
    const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
        r.fail(key, value, `an integer from ${min} to ${max}`);
        return fallback;
    }
    return n;
}

function readEnum<T extends string>(r: Reader, key: string, value: unknown, fallback: T, allowed: readonly T[]): T {
    const s = readString(r, key, value, fallback);
    if (!allowed.includes(s as T)) {
        r.fail(key, value, `one of ${allowed.join(", ")}`);
        return fallback;
    }
    return s as T;
}

/** Docker's name for the platform of a machine with this Node.js `process.arch`, if it is one we build for. */
export function hostPlatform(arch: string = process.arch): string | undefined {
    const byArch: Record<string, string> = { x64: "linux/amd64", arm64: "linux/arm64", arm: "linux/arm/v7", ppc64: "linux/ppc64le", s390x: "linux/s390x" };
    return byArch[arch];
}

/**
 * "" stands for this machine's platform, made explicit here so that the build (and a preview's diff)
 * names it: right for minikube, whose node runs on this machine (arm64 on Apple silicon).
 */
function readPlatform(r: Reader, arch: string): string {
    const value = r.scalar("imagePlatform");
    const s = readString(r, "imagePlatform", value, DEFAULTS.imagePlatform);
    if (s === "") {
        const host = hostPlatform(arch);
        if (host) return host;
        r.fail("imagePlatform", value, `a platform named explicitly on this ${arch} machine: one of ${PLATFORMS.join(", ")}`);
        return DEFAULTS.imagePlatform;
    }
    if (!PLATFORMS.includes(s)) {
        r.fail("imagePlatform", value, `one of ${PLATFORMS.join(", ")}, or "" for this machine's platform`);
        return DEFAULTS.imagePlatform;
    }
    return s;
}

function readName(r: Reader, key: string, value: unknown, fallback: string, kind: "label" | "subdomain"): string {
    const s = readString(r, key, value, fallback);
    if (s === "") return s;
    const ok = kind === "label" ? s.length <= 63 && DNS1123_LABEL.test(s) : s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
    if (!ok) {
        r.fail(
            key,
            value,
            kind === "label"
                ? "a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit"
                : "a DNS-1123 subdomain: dot-separated lowercase labels of letters, digits or '-', at most 253 characters",
        );
        return fallback;
    }
    return s;
}

function readResources(r: Reader, key: string, value: unknown, fallback: Resources): Resources {
    if (value === undefined || value === null) return fallback;
    if (!isPlainObject(value)) {
        r.fail(key, value, "an object with requests and limits");
        return fallback;
    }
    unknownFields(r, key, value, ["requests", "limits"]);
    const out: Resources = { requests: { ...fallback.requests }, limits: { ...fallback.limits } };
    for (const group of ["requests", "limits"] as const) {
        const given = value[group];
        if (given === undefined) continue;
        if (!isPlainObject(given)) {
            r.fail(`${key}.${group}`, given, "an object with cpu and memory");
            continue;
        }
        unknownFields(r, `${key}.${group}`, given, ["cpu", "memory"]);
        for (const res of ["cpu", "memory"] as const) {
            const v = given[res];
            if (v === undefined) continue;
            const text = typeof v === "number" ? String(v) : v;
            const q = typeof text === "string" ? parseQuantity(text) : undefined;
            if (q === undefined || q <= 0) {
                r.fail(
                    `${key}.${group}.${res}`,
                    v,
                    res === "cpu"
                        ? "a positive Kubernetes quantity such as 250m or 1"
                        : "a positive Kubernetes quantity such as 256Mi or 1Gi",
                );
                continue;
            }
            out[group][res] = text as string;
        }
    }
    for (const res of ["cpu", "memory"] as const) {
        const req = parseQuantity(out.requests[res]);
        const lim = parseQuantity(out.limits[res]);
        if (req !== undefined && lim !== undefined && req > lim) {
            r.note(
                `${key}.requests.${res}`,
                `= ${show(out.requests[res])} is invalid: expected at most ${key}.limits.${res} (${show(out.limits[res])}); a request cannot exceed its limit`,
            );
        }
    }
    return out;
}

function readAutoscaling(r: Reader, key: string, value: unknown, fallback: Autoscaling): Autoscaling {
    if (value === undefined || value === null) return fallback;
    if (!isPlainObject(value)) {
        r.fail(key, value, "an object with enabled, minReplicas, maxReplicas, targetCPUUtilizationPercentage");
        return fallback;
    }
    unknownFields(r, key, value, Object.keys(fallback));
    const out: Autoscaling = {
        enabled: readBool(r, `${key}.enabled`, value.enabled, fallback.enabled),
        minReplicas: readInt(r, `${key}.minReplicas`, value.minReplicas, fallback.minReplicas, 1, MAX_REPLICAS),
        maxReplicas: readInt(r, `${key}.maxReplicas`, value.maxReplicas, fallback.maxReplicas, 1, MAX_REPLICAS),
        targetCPUUtilizationPercentage: readInt(
            r, `${key}.targetCPUUtilizationPercentage`, value.targetCPUUtilizationPercentage,
            fallback.targetCPUUtilizationPercentage, 1, 100,
        ),
    };
    if (out.minReplicas > out.maxReplicas) {
        r.note(`${key}.maxReplicas`, `= ${out.maxReplicas} is invalid: expected at least ${key}.minReplicas (${out.minReplicas})`);
    }
    return out;
}

function readService(r: Reader, key: "backend" | "frontend"): ServiceSettings {
    const d = DEFAULTS[key];
    const given = r.object(key);
    const fields = ["replicas", "resources", "serviceType", "nodePort", "autoscaling"];
    if (key === "frontend") fields.push("servicePort");
    unknownFields(r, key, given, fields);
    let serviceType = readEnum(r, `${key}.serviceType`, given.serviceType, d.serviceType as ServiceType, SERVICE_TYPES);
    // The backend believes the X-Forwarded-For that the frontend and the Ingress set (it keys sign-in and
    // sign-up limits on it), so nothing outside the cluster may reach it without one of them in between.
    const backendOnly = "the backend is reached through the frontend's /api or the Ingress (/api, /mcp): exposed on the nodes, " +
        "any client could forge the X-Forwarded-For its rate limits trust (for MCP without an Ingress, use kubectl port-forward)";
    if (key === "backend" && serviceType !== "ClusterIP") {
        r.note("backend.serviceType", `= ${show(serviceType)} is invalid: expected ClusterIP; ${backendOnly}`);
        serviceType = "ClusterIP";
    }
    let nodePort: number | undefined;
    if (given.nodePort !== undefined && given.nodePort !== null) {
        if (key === "backend") {
            r.note("backend.nodePort", `= ${show(given.nodePort)} is invalid: the backend takes no nodePort; ${backendOnly}`);
        } else if (serviceType === "ClusterIP") {
            r.note(`${key}.nodePort`, `= ${show(given.nodePort)} is invalid: a nodePort needs ${key}.serviceType NodePort or LoadBalancer (it is ClusterIP)`);
        } else {
            nodePort = readInt(r, `${key}.nodePort`, given.nodePort, NODE_PORT_MIN, NODE_PORT_MIN, NODE_PORT_MAX);
        }
    }
    return {
        replicas: readInt(r, `${key}.replicas`, given.replicas, d.replicas, 1, MAX_REPLICAS),
        resources: readResources(r, `${key}.resources`, given.resources, d.resources),
        serviceType,
        nodePort,
        servicePort: key === "frontend"
            ? readInt(r, `${key}.servicePort`, given.servicePort, DEFAULTS.frontend.servicePort, 1, 65535)
            : 8000,
        autoscaling: readAutoscaling(r, `${key}.autoscaling`, given.autoscaling, d.autoscaling),
    };
}

function readPostgres(r: Reader): PostgresSettings {
    const d = DEFAULTS.postgres;
    const given = r.object("postgres");
    unknownFields(r, "postgres", given, Object.keys(d));
    const storage = readString(r, "postgres.storage", given.storage, d.storage);
    const bytes = parseQuantity(storage);
    if (bytes === undefined || bytes < 2 ** 26) {
        r.fail("postgres.storage", given.storage, "a Kubernetes quantity of at least 64Mi, such as 1Gi or 10Gi");
    }
    const version = readString(r, "postgres.version", typeof given.version === "number" ? String(given.version) : given.version, d.version);
    if (!DOCKER_TAG.test(`${version}-bookworm`) || !POSTGRES_VERSION.test(version)) {
        r.fail("postgres.version", given.version, "a PostgreSQL major version from 13 to 18, optionally with a minor (\"17\", \"17.6\"), used as the image tag postgres:<version>-bookworm");
    }
    const storageClass = readName(r, "postgres.storageClass", given.storageClass, d.storageClass, "subdomain");
    return {
        enabled: readBool(r, "postgres.enabled", given.enabled, d.enabled),
        storage,
        storageClass: storageClass || undefined,
        version,
        resources: readResources(r, "postgres.resources", given.resources, d.resources),
    };
}

function readIngress(r: Reader): IngressSettings {
    const d = DEFAULTS.ingress;
    const given = r.object("ingress");
    unknownFields(r, "ingress", given, Object.keys(d));
    let annotations: Record<string, string> = {};
    if (given.annotations !== undefined && given.annotations !== null) {
        if (!isPlainObject(given.annotations) || Object.values(given.annotations).some((v) => typeof v !== "string")) {
            r.fail("ingress.annotations", given.annotations, "a mapping of annotation names to string values");
        } else {
            annotations = given.annotations as Record<string, string>;
        }
    }
    const host = readName(r, "ingress.host", given.host, d.host, "subdomain");
    if (host === "") r.fail("ingress.host", given.host, "a host name such as todo.example.com");
    const tlsSecretName = readName(r, "ingress.tlsSecretName", given.tlsSecretName, d.tlsSecretName, "subdomain");
    return {
        enabled: readBool(r, "ingress.enabled", given.enabled, d.enabled),
        host,
        className: readName(r, "ingress.className", given.className, d.className, "subdomain") || d.className,
        tlsSecretName: tlsSecretName || undefined,
        annotations,
        controllerNamespace: readName(r, "ingress.controllerNamespace", given.controllerNamespace, d.controllerNamespace, "label") || d.controllerNamespace,
    };
}

function readLlm(r: Reader): LlmSettings {
    const d = DEFAULTS.llm;
    const given = r.object("llm");
    unknownFields(r, "llm", given, Object.keys(d));
    const provider = readEnum(r, "llm.provider", given.provider, d.provider as LlmProvider, LLM_PROVIDERS);
    const model = readString(r, "llm.model", given.model, d.model);
    const baseUrl = readString(r, "llm.baseUrl", given.baseUrl, d.baseUrl);
    if (baseUrl !== "") {
        if (!isHttpUrl(baseUrl)) {
            r.fail("llm.baseUrl", baseUrl, "an http:// or https:// URL of an OpenAI-compatible API");
        } else if (provider !== "openai") {
            r.note("llm.baseUrl", `= ${show(baseUrl)} is invalid: it is only used with llm.provider openai (it is ${provider})`);
        }
    }
    if (model !== "" && provider === "builtin") {
        r.note("llm.model", `= ${show(model)} is invalid: the builtin provider has no model; set llm.provider to openai or cohere, or remove llm.model`);
    }
    return { provider, model: model || undefined, baseUrl: baseUrl || undefined };
}

function isHttpUrl(text: string): boolean {
    try {
        const u = new URL(text);
        return u.protocol === "http:" || u.protocol === "https:";
    } catch {
        return false;
    }
}

function readRegistry(r: Reader): string | undefined {
    const value = r.scalar("imageRegistry") ?? DEFAULTS.imageRegistry;
    if (value === "") return undefined;
    const [domain, ...path] = value.split("/");
    const ok =
        !/[:@]/.test(path.join("/")) &&
        REGISTRY_DOMAIN.test(domain) &&
        path.every((c) => REGISTRY_PATH_COMPONENT.test(c)) &&
        value.length + "/todo-frontend".length <= 255;
    if (!ok) {
        r.fail(
            "imageRegistry",
            value,
            "a registry host with an optional port and lowercase path, without scheme, tag or digest (e.g. ghcr.io/acme or registry.local:5000/todo); images are pushed as <imageRegistry>/todo-backend:<tag>",
        );
        return undefined;
    }
    return value;
}

function readSecrets(r: Reader, postgres: PostgresSettings, llm: LlmSettings, existingSecret?: string): SecretSettings {
    const secrets: SecretSettings = {};
    for (const key of SECRET_KEYS) {
        const v = r.scalar(key);
        if (v !== undefined && v !== "") secrets[key] = v;
    }
    const hint = (key: string, example: string) => `pulumi config set --secret ${key} '${example}'`;
    if (existingSecret) {
        for (const key of SECRET_KEYS) {
            if (secrets[key] !== undefined) {
                r.note(key, `is set but existingSecret (${show(existingSecret)}) is also set, so it would be ignored: put it in that Secret instead, or unset existingSecret`);
            }
        }
        return secrets;
    }
    if (!postgres.enabled && secrets.databaseUrl === undefined) {
        r.note("databaseUrl", `is not set: it is required when postgres.enabled is false; set it with ${hint("databaseUrl", "postgresql://user:password@host/db?sslmode=require")}`, "databaseUrl");
    }
    if (postgres.enabled && secrets.databaseUrl !== undefined) {
        r.note("databaseUrl", "is set while postgres.enabled is true: the in-cluster database would be used and databaseUrl ignored; set postgres.enabled to false to use the external database, or remove databaseUrl");
    }
    if (secrets.databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^\s]+$/.test(secrets.databaseUrl)) {
        r.note("databaseUrl", "= (secret, not shown) is invalid: expected a postgres:// or postgresql:// connection URL");
    }
    if (llm.provider === "openai" && secrets.openaiApiKey === undefined) {
        r.note("openaiApiKey", `is not set: it is required when llm.provider is openai; set it with ${hint("openaiApiKey", "sk-...")}`, "openaiApiKey");
    }
    if (llm.provider === "cohere" && secrets.cohereApiKey === undefined) {
        r.note("cohereApiKey", `is not set: it is required when llm.provider is cohere; set it with ${hint("cohereApiKey", "...")}`, "cohereApiKey");
    }
    return secrets;
}

/** Parses and checks raw config (keys without the `todo-chatbot:` prefix). */
export function checkSettings(raw: Record<string, string | undefined>, arch: string = process.arch): { settings: Settings; problems: Problem[] } {
    const r = new Reader(raw);
    for (const key of Object.keys(raw)) {
        if (!KNOWN_KEYS.includes(key)) {
            r.note(`${PROJECT}:${key}`, `is not a known setting; known settings are: ${KNOWN_KEYS.join(", ")}`);
        }
    }
    const kubeContext = r.scalar("kubeContext") ?? DEFAULTS.kubeContext;
    if (kubeContext.trim() === "") r.fail("kubeContext", kubeContext, "the name of a kubeconfig context (kubectl config get-contexts)");
    const namespace = readName(r, "namespace", r.scalar("namespace"), DEFAULTS.namespace, "label");
    if (namespace === "") r.fail("namespace", "", "a DNS-1123 label such as todo-chatbot");
    const minikubeProfile = r.scalar("minikubeProfile") ?? DEFAULTS.minikubeProfile;
    if (minikubeProfile !== "" && !/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(minikubeProfile)) {
        r.fail("minikubeProfile", minikubeProfile, "a minikube profile name (minikube profile list), or empty to skip the Docker daemon check");
    }
    const existingSecret = readName(r, "existingSecret", r.scalar("existingSecret"), DEFAULTS.existingSecret, "subdomain");
    const postgres = readPostgres(r);
    const llm = readLlm(r);
    const settings: Settings = {
        kubeContext,
        namespace: namespace || DEFAULTS.namespace,
        imageRegistry: readRegistry(r),
        imagePlatform: readPlatform(r, arch),
        minikubeProfile: minikubeProfile || undefined,
        logLevel: readEnum(r, "logLevel", r.scalar("logLevel"), DEFAULTS.logLevel, LOG_LEVELS),
        backend: readService(r, "backend"),
        frontend: readService(r, "frontend"),
        postgres,
        ingress: readIngress(r),
        llm,
        protectData: readBool(r, "protectData", r.scalar("protectData"), DEFAULTS.protectData),
        existingSecret: existingSecret || undefined,
        authSecretGeneration: readInt(r, "authSecretGeneration", r.scalar("authSecretGeneration"), DEFAULTS.authSecretGeneration, 1, 1_000_000),
        secrets: readSecrets(r, postgres, llm, existingSecret || undefined),
    };
    return { settings, problems: r.problems };
}

/** Like checkSettings, but throws a ConfigError listing every problem. */
export function parseSettings(raw: Record<string, string | undefined>, arch: string = process.arch): Settings {
    const { settings, problems } = checkSettings(raw, arch);
    if (problems.length > 0) throw new ConfigError(problems);
    return settings;
}

/**
 * This project's config as the engine passes it to the program, keyed without
 * the namespace. Read raw (not through pulumi.Config) so that secret keys can
 * be checked for presence without the SDK's "use getSecret" warning; their
 * values are wrapped as secrets by whoever uses them.
 */
export function readProjectConfig(): Record<string, string> {
    const prefix = `${PROJECT}:`;
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
    }
    return out;
}

/** Requests and limits in the shape the Kubernetes SDK takes. */
export function toResourceRequirements(res: Resources): k8s.types.input.core.v1.ResourceRequirements {
    return { requests: { ...res.requests }, limits: { ...res.limits } };
}
