// Memory of containers as `docker stats` reports it (usage less page cache), in MiB.
import type { Docker } from "./docker.ts";

const UNIT: Record<string, number> = { B: 1 / 2 ** 20, KiB: 1 / 1024, MiB: 1, GiB: 1024, kB: 1e3 / 2 ** 20, MB: 1e6 / 2 ** 20, GB: 1e9 / 2 ** 20 };

function mib(text: string): number {
  const m = /^([\d.]+)\s*([A-Za-z]+)$/.exec(text.trim());
  if (!m || !(m[2] in UNIT)) throw new Error(`unexpected memory figure from docker stats: ${text}`);
  return Number(m[1]) * UNIT[m[2]];
}

export async function memoryMiB(docker: Docker, containers: string[]): Promise<Record<string, { usedMiB: number; limitMiB: number }>> {
  const r = await docker.run(["stats", "--no-stream", "--format", "{{.Name}}|{{.MemUsage}}", ...containers]);
  const out: Record<string, { usedMiB: number; limitMiB: number }> = {};
  for (const line of r.stdout.split("\n").filter(Boolean)) {
    const [name, usage] = line.split("|");
    const [used, limit] = usage.split("/");
    out[name] = { usedMiB: mib(used), limitMiB: mib(limit) };
  }
  return out;
}
