// scripts/deploy.sh, run for real against stand-in `pulumi` and `minikube`
// executables that record how they were called (neither CLI exists here).
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT, tempDir, writeFiles } from "./helpers";

interface Run {
    status: number | null;
    stderr: string;
    calls: string[];
}

describe("scripts/deploy.sh", () => {
    let project: string;
    let bin: string;
    let log: string;

    /** A stand-in CLI: logs its arguments and the environment the script prepared. */
    function shim(name: string, body = ""): void {
        const file = path.join(bin, name);
        fs.writeFileSync(
            file,
            `#!/usr/bin/env bash\necho "${name} $*|DOCKER_HOST=\${DOCKER_HOST:-}|BACKEND=\${PULUMI_BACKEND_URL:-}|PASSFILE=\${PULUMI_CONFIG_PASSPHRASE_FILE:-}" >> "${log}"\n${body}\n`,
        );
        fs.chmodSync(file, 0o755);
    }

    function run(args: string[], env: Record<string, string> = {}): Run {
        const result = spawnSync("bash", [path.join(project, "scripts/deploy.sh"), ...args], {
            cwd: project,
            encoding: "utf8",
            env: { PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: project, ...env },
        });
        // `pulumi version` (the CLI check) is asserted on its own; the rest is what the script ran.
        const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter((c) => c && !c.startsWith("pulumi version")) : [];
        return { status: result.status, stderr: result.stderr, calls };
    }

    beforeEach(() => {
        project = tempDir("deploy");
        bin = path.join(project, "fake-bin");
        log = path.join(project, "calls.log");
        fs.mkdirSync(bin);
        for (const file of ["scripts/deploy.sh", "Pulumi.yaml", "Pulumi.minikube.yaml", "Pulumi.dev.yaml"]) {
            fs.cpSync(path.join(ROOT, file), path.join(project, file));
        }
        // Present, so the script does not run `npm ci`.
        writeFiles(path.join(project, "node_modules/@pulumi/pulumi"), { "package.json": "{}" });
        shim("pulumi", `[ "$1" = version ] && echo "\${FAKE_PULUMI_VERSION-v3.248.0}"; true`);
        shim(
            "minikube",
            `case " $* " in
  *" status "*) exit \${FAKE_MINIKUBE_STATUS:-0} ;;
  *" docker-env "*) [ -n "\${FAKE_DOCKER_ENV_FAIL:-}" ] && { echo "Exiting due to ENV_DRIVER_CONFLICT" >&2; exit 56; }
                    echo 'export DOCKER_HOST="tcp://192.168.49.2:2376"'; echo 'export MINIKUBE_ACTIVE_DOCKERD="minikube"' ;;
esac`,
        );
    });

    it("deploys the minikube stack: local state, generated passphrase, minikube's Docker daemon, then pulumi up", () => {
        const { status, stderr, calls } = run(["minikube", "up", "--yes"]);
        assert.equal(status, 0, stderr);
        const env = `|DOCKER_HOST=tcp://192.168.49.2:2376|BACKEND=file://${project}/.pulumi/state|PASSFILE=${project}/.pulumi/passphrase`;
        assert.deepEqual(calls.filter((c) => c.startsWith("pulumi")), [
            `pulumi stack select --create --non-interactive minikube${env}`,
            `pulumi up --yes --stack minikube${env}`,
        ]);
        assert.ok(calls.some((c) => c.startsWith("minikube -p minikube docker-env --shell bash|")));
        const passphrase = path.join(project, ".pulumi/passphrase");
        assert.equal(fs.statSync(passphrase).mode & 0o777, 0o600);
        const first = fs.readFileSync(passphrase, "utf8");
        assert.ok(first.length >= 40);
        assert.equal(run(["minikube", "stack", "output"]).status, 0);
        assert.equal(fs.readFileSync(passphrase, "utf8"), first, "the passphrase is generated once and kept");
        assert.match(stderr, /generated a passphrase for this stack's secrets in \.pulumi\/passphrase/);
    });

    it("keeps the user's backend and passphrase, and leaves Docker alone on a registry stack", () => {
        const { status, stderr, calls } = run(["dev", "preview"], { PULUMI_BACKEND_URL: "s3://bucket/state", PULUMI_CONFIG_PASSPHRASE: "pw" });
        assert.equal(status, 0, stderr);
        assert.deepEqual(calls, [
            "pulumi stack select --create --non-interactive dev|DOCKER_HOST=|BACKEND=s3://bucket/state|PASSFILE=",
            "pulumi preview --stack dev|DOCKER_HOST=|BACKEND=s3://bucket/state|PASSFILE=",
        ]);
        assert.ok(!fs.existsSync(path.join(project, ".pulumi/passphrase")));
    });

    it("destroys (or edits state and config) without needing minikube or its Docker daemon", () => {
        for (const command of [["destroy"], ["state", "unprotect", "--all"], ["config", "set", "logLevel", "debug"]]) {
            fs.rmSync(log, { force: true });
            const { status, calls } = run(["minikube", ...command], { FAKE_MINIKUBE_STATUS: "7" });
            assert.equal(status, 0, command.join(" "));
            assert.ok(calls.every((c) => !c.startsWith("minikube")), command.join(" "));
            assert.equal(calls.at(-1)!.split("|")[0], `pulumi ${command.join(" ")} --stack minikube`);
        }
    });

    it("says how to start minikube when it is not running", () => {
        const { status, stderr, calls } = run(["minikube"], { FAKE_MINIKUBE_STATUS: "7" });
        assert.equal(status, 1);
        assert.match(stderr, /minikube profile "minikube" is not running: start it with enough memory .*\n\s+minikube start -p minikube --memory 4096 --cpus 2/);
        assert.ok(!calls.some((c) => c.startsWith("pulumi")));
    });

    it("says how to install the Pulumi CLI when it is missing", () => {
        fs.rmSync(path.join(bin, "pulumi"));
        const { status, stderr } = run(["minikube"]);
        assert.equal(status, 1);
        assert.match(stderr, /the Pulumi CLI is not installed: see https:\/\/www\.pulumi\.com\/docs\/iac\/download-install\//);
    });

    it("reads minikube's docker-env again even when the shell says it is in effect (stale after a minikube restart)", () => {
        const { status, stderr, calls } = run(["minikube", "up", "--yes"], { MINIKUBE_ACTIVE_DOCKERD: "minikube", DOCKER_HOST: "tcp://127.0.0.1:50123" });
        assert.equal(status, 0, stderr);
        assert.ok(calls.some((c) => c.startsWith("minikube -p minikube docker-env --shell bash|")));
        assert.match(calls.at(-1)!, /^pulumi up --yes --stack minikube\|DOCKER_HOST=tcp:\/\/192\.168\.49\.2:2376\|/);
    });

    it("stops when minikube's docker-env fails, before running pulumi", () => {
        const { status, stderr, calls } = run(["minikube", "up", "--yes"], { FAKE_DOCKER_ENV_FAIL: "1" });
        assert.equal(status, 1);
        assert.match(stderr, /minikube -p minikube docker-env failed/);
        assert.ok(!calls.some((c) => c.startsWith("pulumi")), calls.join("\n"));
    });

    it("refuses a Pulumi CLI older than the one the object config keys need, naming both versions", () => {
        for (const [version, message] of [
            ["v3.184.0", /the Pulumi CLI is v3\.184\.0; this program needs v3\.248\.0 or newer \(Pulumi\.yaml declares object config keys/],
            ["", /`pulumi version` printed no version: this program needs the Pulumi CLI v3\.248\.0 or newer/],
        ] as const) {
            fs.rmSync(log, { force: true });
            const { status, stderr, calls } = run(["minikube", "up"], { FAKE_PULUMI_VERSION: version });
            assert.equal(status, 1, version);
            assert.match(stderr, message);
            assert.deepEqual(calls, [], "nothing else ran");
        }
        assert.equal(run(["minikube", "up"], { FAKE_PULUMI_VERSION: "v3.274.1" }).status, 0, "a newer CLI is accepted");
    });

    it("requires the CLI version that the SDK in package.json is pinned to", () => {
        const pin = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
        assert.match(fs.readFileSync(path.join(ROOT, "scripts/deploy.sh"), "utf8"), new RegExp(`^min_cli=${pin.replace(/\./g, "\\.")}$`, "m"));
    });

    it("names the stacks there are when given an unknown one", () => {
        const { status, stderr } = run(["prod"]);
        assert.equal(status, 1);
        assert.match(stderr, /no stack file Pulumi\.prod\.yaml; stacks: dev minikube/);
    });
});
