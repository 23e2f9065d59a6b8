// npm run render -- <stack> [--secrets placeholder|reveal] [--json] [--set key=value ...]
// Prints the stack's Kubernetes objects as multi-document YAML (or the whole
// render result as JSON), secrets masked unless --secrets reveal.
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { renderStack } from "./index";

const USAGE = "usage: npm run render -- <stack> [--secrets placeholder|reveal] [--json] [--set key=value ...]";

async function main(): Promise<void> {
    const { values, positionals } = parseArgs({
        allowPositionals: true,
        options: {
            secrets: { type: "string", default: "placeholder" },
            json: { type: "boolean", default: false },
            set: { type: "string", multiple: true, default: [] },
            help: { type: "boolean", short: "h", default: false },
        },
    });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    if (positionals.length !== 1) throw new Error(`expected one stack name, got ${positionals.length}\n${USAGE}`);
    if (values.secrets !== "placeholder" && values.secrets !== "reveal") {
        throw new Error(`--secrets ${values.secrets}: expected placeholder or reveal`);
    }
    const config: Record<string, unknown> = {};
    for (const assignment of values.set ?? []) {
        const eq = assignment.indexOf("=");
        if (eq <= 0) throw new Error(`--set ${assignment}: expected key=value (value may be JSON, e.g. --set 'postgres={"enabled":false}')`);
        const text = assignment.slice(eq + 1);
        config[assignment.slice(0, eq)] = parseJsonOrString(text);
    }
    const result = await renderStack({ stack: positionals[0], config, secrets: values.secrets });
    if (values.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
        process.stdout.write(result.objects.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join(""));
    }
}

function parseJsonOrString(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`render failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
