// The GitHub workflows cannot run here; this validates them against the
// workflow and action schemas (@action-validator/core, SchemaStore's schemas)
// and checks that they do what the README says they do.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { parse as parseYaml } from "yaml";
import { ROOT } from "./helpers";

const WORKFLOWS = path.join(ROOT, ".github/workflows");

/** Inputs of pulumi/actions as its README documents them (v6/v7 share them). */
const PULUMI_ACTION_INPUTS = new Set([
    "command", "stack-name", "work-dir", "cloud-url", "comment-on-pr", "comment-on-summary", "github-token", "refresh",
    "secrets-provider", "color", "log-verbosity", "log-flow", "debug", "config-map", "diff", "comment-on-pr-number",
    "edit-pr-comment", "expect-no-changes", "message", "parallel", "policyPacks", "policyPackConfigs", "pulumi-version",
    "pulumi-version-file", "remove", "replace", "target", "target-dependents", "upsert", "exclude-protected",
    "suppress-outputs", "suppress-progress", "omit-stdout", "plan", "always-include-summary", "continue-on-error",
]);

function workflow(name: string): any {
    return parseYaml(fs.readFileSync(path.join(WORKFLOWS, name), "utf8"));
}

function pulumiSteps(wf: any): any[] {
    return Object.values<any>(wf.jobs).flatMap((job) => job.steps.filter((s: any) => String(s.uses ?? "").startsWith("pulumi/actions@")));
}

describe("GitHub workflows", () => {
    it("match the GitHub workflow and action schemas", () => {
        const files = fs.readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));
        assert.deepEqual(files.sort(), ["deploy-dev.yml", "destroy.yml", "pull-request.yml"]);
        for (const file of files) {
            assert.deepEqual(validateWorkflow(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")).errors, [], file);
        }
        const action = path.join(ROOT, ".github/actions/setup/action.yml");
        assert.deepEqual(validateAction(fs.readFileSync(action, "utf8")).errors, []);
        // The validator does catch mistakes:
        assert.notDeepEqual(validateWorkflow("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n").errors, []);
    });

    it("use only documented pulumi/actions inputs", () => {
        for (const file of fs.readdirSync(WORKFLOWS)) {
            for (const step of pulumiSteps(workflow(file))) {
                for (const input of Object.keys(step.with)) assert.ok(PULUMI_ACTION_INPUTS.has(input), `${file}: unknown input ${input}`);
            }
        }
    });

    it("pull requests run the tests, then a preview commented on the PR", () => {
        const wf = workflow("pull-request.yml");
        assert.ok("pull_request" in wf.on);
        assert.ok(wf.jobs.test.steps.some((s: any) => s.run === "npm test"));
        assert.deepEqual(wf.jobs.preview.needs, "test");
        const [preview] = pulumiSteps(wf);
        assert.equal(preview.with.command, "preview");
        assert.equal(preview.with["comment-on-pr"], true);
        assert.equal(wf.jobs.preview.permissions["pull-requests"], "write");
    });

    it("main runs `pulumi up` on the dev stack after the tests", () => {
        const wf = workflow("deploy-dev.yml");
        assert.deepEqual(wf.on.push.branches, ["main"]);
        assert.equal(wf.jobs.up.needs, "test");
        const [up] = pulumiSteps(wf);
        assert.equal(up.with.command, "up");
        assert.match(up.with["stack-name"], /'dev'/);
        assert.ok(wf.jobs.up.steps.some((s: any) => String(s.uses).startsWith("docker/login-action@")), "logs in to push images");
    });

    it("destroy is manual only, confirmed, and keeps protected data by default", () => {
        const wf = workflow("destroy.yml");
        assert.deepEqual(Object.keys(wf.on), ["workflow_dispatch"]);
        assert.equal(wf.on.workflow_dispatch.inputs["exclude-protected"].default, true);
        assert.equal(wf.jobs.destroy.if, "inputs.confirm == inputs.stack");
        const [destroy] = pulumiSteps(wf);
        assert.equal(destroy.with.command, "destroy");
    });
});
