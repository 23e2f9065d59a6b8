// Offline render: runs the real program (index.ts) for a stack file under
// Pulumi mocks and returns every resource, Kubernetes object, image build and
// stack output it produces. No Pulumi CLI, cluster or Docker daemon is needed.
// Contract: /work/notes/render-contract.md (RenderOptions ... renderStack).
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { PROJECT, SECRET_KEYS, SECRET_PLACEHOLDERS, checkSettings, type SecretKey } from "../components/settings";
import { installMocks, kubernetesObjects, revealOrMask, settle, SECRET_PLACEHOLDER, type SecretMode } from "./mocks";

export interface RenderOptions {
    /** "minikube" | "dev" | any Pulumi.<stack>.yaml at the project root. */
    stack: string;
    /** Extra or overriding project config, keys without the "todo-chatbot:" prefix. */
    config?: Record<string, unknown>;
    /** "placeholder" (default) masks every secret value; "reveal" generates and shows real ones. */
    secrets?: SecretMode;
    /** Default: the repository root. */
    projectRoot?: string;
}

export interface RenderedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** Provider reference (`<urn>::<id>`) of a custom resource, when it names one. */
    provider?: string;
    /** Present (true) when the resource is protected from `pulumi destroy`. */
    protect?: true;
}

export interface ImageBuild {
    app: "backend" | "frontend";
    /** The reference the pods run without a registry (name:tag); with a registry they run its pushed digest. */
    imageName: string;
    context: string;
    dockerfile: string;
    platform?: string;
    target?: string;
    args: Record<string, string>;
}

export interface RenderResult {
    resources: RenderedResource[];
    objects: any[];
    images: ImageBuild[];
    outputs: Record<string, unknown>;
}

const DEFAULT_ROOT = path.resolve(__dirname, "..");

/** Stack config as `pulumi` would hand it to the program: full keys, string values. */
export interface StackConfig {
    values: Record<string, string>;
    secretKeys: string[];
    /** What the render did that a real run would not (on stderr from the CLI). */
    notes: string[];
}

/**
 * Merges Pulumi.yaml defaults, Pulumi.<stack>.yaml and overrides the way the
 * Pulumi CLI does: a stack value replaces the project default whole.
 */
export function loadStackConfig(opts: RenderOptions): StackConfig {
    const root = opts.projectRoot ?? DEFAULT_ROOT;
    const mode = opts.secrets ?? "placeholder";
    const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) ?? {};
    const stackFile = path.join(root, `Pulumi.${opts.stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        const stacks = fs.readdirSync(root).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.split(".")[1]);
        throw new Error(`no stack file ${stackFile}; stacks here: ${stacks.join(", ") || "(none)"}`);
    }
    const stackConfig: Record<string, unknown> = (parseYaml(fs.readFileSync(stackFile, "utf8")) ?? {}).config ?? {};
    const projectName: string = project.name ?? PROJECT;
    const fullKey = (key: string) => (key.includes(":") ? key : `${projectName}:${key}`);

    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    const notes: string[] = [];
    const missing: string[] = [];
    for (const [key, decl] of Object.entries<any>(project.config ?? {})) {
        const k = fullKey(key);
        const isType = typeof decl === "object" && decl !== null && !Array.isArray(decl);
        if (!isType) values[k] = decl;
        else if (decl.value !== undefined) values[k] = decl.value;
        else if (decl.default !== undefined) values[k] = decl.default;
        else if (k.startsWith(`${projectName}:`) && !(k in stackConfig)) missing.push(key);
        if (isType && decl.secret) secretKeys.add(k);
    }
    if (missing.length > 0) throw new Error(`Stack '${opts.stack}' is missing configuration values: ${missing.join(", ")}`);

    for (const [k, v] of Object.entries(stackConfig)) {
        if (typeof v === "object" && v !== null && "secure" in v) {
            secretKeys.add(k);
            const short = k.slice(projectName.length + 1) as SecretKey;
            if (opts.config && short in opts.config) continue;
            if (mode === "reveal") {
                throw new Error(`${stackFile} holds an encrypted ${k}, which the render cannot decrypt: pass it in RenderOptions.config`);
            }
            values[k] = SECRET_PLACEHOLDERS[short] ?? SECRET_PLACEHOLDER;
            notes.push(`${k} is encrypted in the stack file: a placeholder stands in for it`);
        } else {
            values[k] = v;
        }
    }
    for (const [key, v] of Object.entries(opts.config ?? {})) {
        values[fullKey(key)] = v;
        if ((SECRET_KEYS as readonly string[]).includes(key)) secretKeys.add(fullKey(key));
    }

    const stringValues = Object.fromEntries(
        Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );

    // A stack file cannot hold a usable secret (it is encrypted per stack), so in
    // placeholder mode stand in for the ones the options require.
    if (mode === "placeholder") {
        const raw = Object.fromEntries(
            Object.entries(stringValues).filter(([k]) => k.startsWith(`${projectName}:`)).map(([k, v]) => [k.slice(projectName.length + 1), v]),
        );
        for (const problem of checkSettings(raw).problems) {
            if (!problem.missingSecret) continue;
            const k = fullKey(problem.missingSecret);
            stringValues[k] = SECRET_PLACEHOLDERS[problem.missingSecret];
            secretKeys.add(k);
            notes.push(`${k} is required by this stack but not set: a placeholder stands in for it`);
        }
    }
    return { values: stringValues, secretKeys: [...secretKeys], notes };
}

// Pulumi's runtime state is process-global: renders run one at a time.
let queue: Promise<unknown> = Promise.resolve();

/** Renders a stack offline. Safe to call repeatedly; concurrent calls are serialised. */
export function renderStack(opts: RenderOptions): Promise<RenderResult> {
    const run = queue.then(() => renderOnce(opts));
    queue = run.catch(() => undefined);
    return run;
}

async function renderOnce(opts: RenderOptions): Promise<RenderResult> {
    const root = opts.projectRoot ?? DEFAULT_ROOT;
    const mode = opts.secrets ?? "placeholder";
    const config = loadStackConfig(opts);
    for (const note of config.notes) process.stderr.write(`render: ${note}\n`);

    const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"))?.name ?? PROJECT;
    const mocks = await installMocks({ project, stack: opts.stack, secrets: mode });
    pulumi.runtime.setAllConfig(config.values, config.secretKeys);

    const program = require.resolve(path.join(root, "index.ts"));
    delete require.cache[program];
    let exports: Record<string, unknown> = {};
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            exports = require(program);
            return exports;
        });
    } finally {
        await settle();
    }

    const resources = mocks.resources
        .filter((r) => r.type !== "pulumi:pulumi:Stack")
        .map((r) => ({
            type: r.type,
            name: r.name,
            inputs: revealOrMask(r.inputs, mode),
            ...(r.provider ? { provider: r.provider } : {}),
            ...(r.protect ? { protect: true as const } : {}),
        }));
    const images: ImageBuild[] = mocks.resources
        .filter((r) => r.type === "docker:index/image:Image")
        .map((r) => {
            const build = revealOrMask(r.inputs.build ?? {}, mode);
            return {
                app: r.name as ImageBuild["app"],
                imageName: r.inputs.imageName,
                context: path.resolve(root, build.context ?? "."),
                dockerfile: path.resolve(root, build.dockerfile ?? path.join(build.context ?? ".", "Dockerfile")),
                ...(build.platform ? { platform: build.platform } : {}),
                ...(build.target ? { target: build.target } : {}),
                args: build.args ?? {},
            };
        });
    return {
        resources,
        objects: kubernetesObjects(mocks.resources, mode),
        images,
        outputs: await resolveOutputs(exports, mode),
    };
}

async function resolveOutputs(value: unknown, mode: SecretMode): Promise<any> {
    if (pulumi.Output.isInstance(value)) {
        const isSecret = await (value as any).isSecret;
        const inner = await (value as any).promise();
        return isSecret && mode === "placeholder" ? SECRET_PLACEHOLDER : resolveOutputs(inner, mode);
    }
    if (Array.isArray(value)) return Promise.all(value.map((v) => resolveOutputs(v, mode)));
    if (typeof value === "object" && value !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
            const resolved = await resolveOutputs(v, mode);
            if (resolved !== undefined) out[k] = resolved;
        }
        return out;
    }
    return value;
}
