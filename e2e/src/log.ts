// One line per step, timestamped from the start of the run, on stderr so the test report stays readable.
const started = Date.now();

export function log(message: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[e2e ${t}s] ${message}\n`);
}
