import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, kubernetesObjects, settle, type RecordingMocks, type SecretMode } from "../render/mocks";

export const ROOT = path.resolve(__dirname, "..");

export interface ComponentRun {
    mocks: RecordingMocks;
    /** Kubernetes objects the component registered, secrets masked (or revealed). */
    objects: any[];
    /** Every registered resource's type and name. */
    types: string[];
}

/** Runs `build` under fresh mocks and returns what it registered once everything settled. */
export async function runComponent<T>(
    build: () => T,
    opts: { secrets?: SecretMode; stack?: string } = {},
): Promise<ComponentRun & { result: T }> {
    const mocks = await installMocks({ project: "todo-chatbot", stack: opts.stack ?? "test", secrets: opts.secrets });
    const result = build();
    await settle();
    return {
        mocks,
        result,
        objects: kubernetesObjects(mocks.resources, opts.secrets ?? "placeholder"),
        types: mocks.resources.map((r) => `${r.type}::${r.name}`),
    };
}

/** The value of an Output once the mocks resolved it. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

export function find(objects: any[], kind: string, name: string): any {
    const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
    if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ")}`);
    return found;
}

export function workloads(objects: any[]): any[] {
    return objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
}

export function containersOf(workload: any): any[] {
    const spec = workload.spec.template.spec;
    return [...(spec.initContainers ?? []), ...spec.containers];
}

const tempDirs: string[] = [];
// A root-level hook: runs once after all test files.
after(() => {
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed when the test run ends. */
export function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `todo-infra-${prefix}-`));
    tempDirs.push(dir);
    return dir;
}

/**
 * A copy of the Pulumi project (program, components, stack files) with its
 * own app/ folders, so tests can change application source without touching
 * the repository's. node_modules is linked, so the same SDK instances load.
 */
export function projectCopy(apps: Record<string, Record<string, string>>): string {
    const dir = tempDir("project");
    for (const entry of ["index.ts", "components", "tsconfig.json", "Pulumi.yaml", "Pulumi.minikube.yaml", "Pulumi.dev.yaml"]) {
        fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    for (const [app, files] of Object.entries(apps)) writeFiles(path.join(dir, "app", app), files);
    return dir;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), content);
    }
}
