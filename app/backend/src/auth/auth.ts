import { betterAuth } from "better-auth";
import type { Kysely } from "kysely";
import type { LogLevel } from "../config.js";
import type { Logger } from "../logger.js";
import { authOptions } from "./options.js";

export interface AuthenticatedUser {
  id: string;
  email: string;
  name: string;
}

function betterAuthLogLevel(level: LogLevel): "debug" | "info" | "warn" | "error" {
  if (level === "trace" || level === "debug") return "debug";
  if (level === "info") return "info";
  if (level === "warn") return "warn";
  return "error";
}

export function createAuth(settings: {
  db: Kysely<any>;
  secret: string;
  baseURL: string | undefined;
  logger: Logger;
  logLevel: LogLevel;
}) {
  const log = settings.logger.child({ component: "better-auth" });
  return betterAuth(
    authOptions({
      db: settings.db,
      secret: settings.secret,
      baseURL: settings.baseURL,
      logger: {
        disabled: settings.logLevel === "silent",
        level: betterAuthLogLevel(settings.logLevel),
        log: (level, message, ...args) => {
          log[level](args.length > 0 ? { details: args } : {}, message);
        },
      },
    }),
  );
}

export type Auth = ReturnType<typeof createAuth>;
