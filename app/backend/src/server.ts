import { ConfigError, loadConfig, type Config } from "./config.js";
import { startServer } from "./start.js";

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const config = configOrExit();
const server = await startServer(config);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    // Past the drain budget, exit anyway: Kubernetes would SIGKILL soon after.
    setTimeout(() => {
      server.logger.error({ timeoutMs: config.shutdown.timeoutMs }, "shutdown did not finish in time; exiting");
      process.exit(1);
    }, config.shutdown.timeoutMs).unref();
    // Exit only once the last log lines are written: pino writes asynchronously.
    const exit = (code: number) => server.logger.flush(() => process.exit(code));
    server.shutdown(signal).then(
      () => exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, "shutdown failed");
        exit(1);
      },
    );
  });
}
