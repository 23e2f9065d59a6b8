// Pulumi mocks that record every registered resource, shared by the offline
// render and the unit tests. Only the engine is mocked: the program and the
// provider SDKs run for real and produce the inputs Kubernetes would get.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export type SecretMode = "placeholder" | "reveal";

/** What secret values are replaced with in placeholder mode. */
export const SECRET_PLACEHOLDER = "<secret>";

export interface RecordedResource {
    type: string;
    name: string;
    /** Inputs as the engine received them; secret values still wrapped (see revealOrMask). */
    inputs: Record<string, any>;
    /** Provider reference (urn::id) for custom resources, when set. */
    provider?: string;
    custom: boolean;
    /** The protect resource option (guards against `pulumi destroy`). */
    protect: boolean;
}

const { specialSigKey, specialSecretSig } = pulumi.runtime;

function isSecretWrapper(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as any)[specialSigKey] === specialSecretSig;
}

function secretWrap(value: unknown): unknown {
    return { [specialSigKey]: specialSecretSig, value };
}

/** Replaces every secret-wrapped value with the placeholder, or unwraps it. */
export function revealOrMask(value: any, mode: SecretMode): any {
    if (isSecretWrapper(value)) return mode === "reveal" ? revealOrMask(value.value, mode) : SECRET_PLACEHOLDER;
    if (Array.isArray(value)) return value.map((v) => revealOrMask(v, mode));
    if (typeof value === "object" && value !== null) {
        const out: Record<string, any> = {};
        for (const [k, v] of Object.entries(value)) {
            if (v !== undefined) out[k] = revealOrMask(v, mode);
        }
        return out;
    }
    return value;
}

/** A random string like @pulumi/random would make for these inputs. */
function randomString(inputs: Record<string, any>): string {
    let chars = "";
    if (inputs.upper !== false) chars += "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (inputs.lower !== false) chars += "abcdefghijklmnopqrstuvwxyz";
    if (inputs.numeric !== false) chars += "0123456789";
    if (inputs.special !== false) chars += inputs.overrideSpecial ?? "!@#$%&*()-_=+[]{}<>:?";
    const length = Number(inputs.length ?? 16);
    let out = "";
    for (let i = 0; i < length; i++) out += chars[crypto.randomInt(chars.length)];
    return out;
}

/**
 * Records resources and answers for the engine: custom resources echo their
 * inputs, random passwords get a (secret) result, images get a digest.
 */
export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    /** Resource options the Mocks interface does not pass on, by type::name (see installMocks). */
    readonly protectedResources = new Set<string>();

    constructor(private readonly secrets: SecretMode = "placeholder") {}

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        this.resources.push({
            type: args.type,
            name: args.name,
            inputs: args.inputs,
            provider: args.provider || undefined,
            custom: args.custom ?? false,
            protect: this.protectedResources.has(`${args.type}::${args.name}`),
        });
        const state: Record<string, any> = { ...args.inputs };
        switch (args.type) {
            case "random:index/randomPassword:RandomPassword":
            case "random:index/randomString:RandomString": {
                const value = this.secrets === "reveal" ? randomString(args.inputs) : `placeholder-${args.name}`;
                // The engine marks these secret (additionalSecretOutputs); mocks have to do it themselves.
                state.result = args.type.endsWith("RandomPassword") ? secretWrap(value) : value;
                break;
            }
            case "docker:index/image:Image": {
                const imageName: string = args.inputs.imageName;
                const digest = `sha256:${crypto.createHash("sha256").update(imageName).digest("hex")}`;
                const repository = imageName.replace(/:[^:/]+$/, "");
                state.repoDigest = args.inputs.skipPush ? digest : `${repository}@${digest}`;
                state.baseImageName = imageName;
                state.registryServer = repository.includes("/") ? repository.split("/")[0] : "";
                state.context = args.inputs.build?.context;
                state.dockerfile = args.inputs.build?.dockerfile;
                state.platform = args.inputs.build?.platform;
                break;
            }
        }
        return { id: `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        return args.inputs;
    }
}

/** Installs fresh recording mocks for a project and stack, as a unit test or the render needs. */
export async function installMocks(opts: {
    project: string;
    stack: string;
    secrets?: SecretMode;
}): Promise<RecordingMocks> {
    const mocks = new RecordingMocks(opts.secrets ?? "placeholder");
    await pulumi.runtime.setMocks(mocks, opts.project, opts.stack, false);
    // The mock monitor hands newResource only type, name and inputs; note the
    // protect option from the request on the way in.
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: unknown) => {
        if (req.getProtect()) mocks.protectedResources.add(`${req.getType()}::${req.getName()}`);
        return register(req, callback);
    };
    return mocks;
}

/** Waits until every pending registration has reached the mocks. */
export async function settle(): Promise<void> {
    // waitForRPCs is internal to the SDK; it is what `pulumi up` waits on before exiting.
    const waitForRPCs: (() => Promise<void>) | undefined = (pulumi.runtime as any).waitForRPCs;
    if (typeof waitForRPCs !== "function") throw new Error("@pulumi/pulumi no longer exposes runtime.waitForRPCs");
    await waitForRPCs();
}

/** apiVersion and kind of a Kubernetes resource type token, e.g. kubernetes:apps/v1:Deployment. */
export function kubernetesKind(type: string): { apiVersion: string; kind: string } | undefined {
    const m = /^kubernetes:([^:]+):([^:]+)$/.exec(type);
    if (!m) return undefined;
    const [group, version] = m[1].split("/");
    return { apiVersion: group === "core" ? version : `${group}/${version}`, kind: m[2] };
}

// Dependency order, as a reader (and kubectl apply) would want them.
const KIND_ORDER = [
    "Namespace", "NetworkPolicy", "Secret", "ConfigMap", "Service", "StatefulSet", "Deployment",
    "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress",
];

/** The Kubernetes objects among recorded resources, with secrets masked or revealed, in a stable order. */
export function kubernetesObjects(resources: RecordedResource[], mode: SecretMode): any[] {
    const objects: any[] = [];
    for (const r of resources) {
        const kind = kubernetesKind(r.type);
        if (!kind || !r.custom) continue;
        // A Secret's data is secret as a whole: show its keys, mask each value.
        const body = kind.kind === "Secret" ? maskSecretValues(revealOrMask(r.inputs, "reveal"), mode) : revealOrMask(r.inputs, mode);
        const object: Record<string, any> = { apiVersion: kind.apiVersion, kind: kind.kind, metadata: body.metadata ?? {} };
        for (const [k, v] of Object.entries(body)) {
            if (!(k in object)) object[k] = v;
        }
        objects.push(object);
    }
    const rank = (o: any) => (KIND_ORDER.includes(o.kind) ? KIND_ORDER.indexOf(o.kind) : KIND_ORDER.length);
    return objects.sort((a, b) => rank(a) - rank(b) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
}

function maskSecretValues(secret: Record<string, any>, mode: SecretMode): Record<string, any> {
    if (mode === "reveal") return secret;
    const out = { ...secret };
    for (const field of ["data", "stringData"]) {
        if (out[field]) out[field] = Object.fromEntries(Object.keys(out[field]).map((k) => [k, SECRET_PLACEHOLDER]));
    }
    return out;
}
