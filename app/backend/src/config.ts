import { z } from "zod";

/**
 * The backend's whole configuration, read from the environment once at
 * start-up. Every variable is documented in README.md.
 */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  databasePoolMax: number;
  /** PostgreSQL statement_timeout of the server's connections. */
  databaseStatementTimeoutMs: number;
  betterAuthSecret: string;
  /** Public origin users reach; when undefined the origin is derived per request. */
  betterAuthUrl: string | undefined;
  logLevel: LogLevel;
  llm: LlmConfig;
  rateLimits: {
    /** Sign-in attempts allowed per e-mail address and client address per minute (also password checks per user). */
    signInPerMinute: number;
    /** Sign-in attempts allowed per e-mail address from all client addresses per minute. */
    signInPerAccountPerMinute: number;
    /** Sign-ups allowed per client address per minute. */
    signUpPerMinute: number;
    /** Chat messages allowed per user per minute. */
    chatPerMinute: number;
  };
  /** How long a resolved session is reused by this replica (0 = ask Better Auth on every request). */
  sessionCacheTtlMs: number;
  shutdown: {
    /** How long /ready answers 503 before the listener closes, so load balancers stop routing here first. */
    delayMs: number;
    /** Hard limit for draining; past it the process exits non-zero. */
    timeoutMs: number;
  };
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
export type LlmProvider = "builtin" | "openai" | "cohere";

export interface LlmConfig {
  provider: LlmProvider;
  model: string;
  openaiApiKey: string | undefined;
  openaiBaseUrl: string | undefined;
  cohereApiKey: string | undefined;
  cohereBaseUrl: string | undefined;
  timeoutMs: number;
  maxSteps: number;
}

export const DEFAULT_MODELS: Record<LlmProvider, string> = {
  builtin: "builtin",
  openai: "gpt-4o-mini",
  cohere: "command-a-03-2025",
};

/** Variables whose values must never appear in an error message or a log line. */
const SECRET_VARIABLES = new Set(["BETTER_AUTH_SECRET", "OPENAI_API_KEY", "COHERE_API_KEY"]);

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const PROVIDERS = ["builtin", "openai", "cohere"] as const;

function integer(min: number, max: number, fallback: number) {
  return z
    .string()
    .default(String(fallback))
    .refine((value) => /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max, {
      message: `expected a whole number from ${min} to ${max}`,
    })
    .transform(Number);
}

function httpUrl(allowPath: boolean) {
  return z.string().refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === "http:" || url.protocol === "https:") && (allowPath || url.pathname === "/");
      } catch {
        return false;
      }
    },
    {
      message: allowPath
        ? "expected an http:// or https:// URL"
        : "expected an origin such as https://todo.example.com (http or https, no path)",
    },
  );
}

const EnvObject = z.object({
  PORT: integer(1, 65535, 8000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: z.string({ message: "is required: a postgres:// or postgresql:// connection URL" }).refine(
    (value) => {
      try {
        return ["postgres:", "postgresql:"].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: "expected a postgres:// or postgresql:// connection URL" },
  ),
  DATABASE_POOL_MAX: integer(1, 100, 10),
  DATABASE_STATEMENT_TIMEOUT_MS: integer(1000, 600000, 15000),
  BETTER_AUTH_SECRET: z
    .string({ message: "is required: a random string of at least 32 characters (e.g. `openssl rand -base64 32`)" })
    .min(32, { message: "is too short: expected at least 32 characters" }),
  BETTER_AUTH_URL: httpUrl(false).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  LLM_PROVIDER: z.enum(PROVIDERS, { message: `expected one of ${PROVIDERS.join(", ")}` }).default("builtin"),
  LLM_MODEL: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: httpUrl(true).optional(),
  COHERE_API_KEY: z.string().optional(),
  COHERE_BASE_URL: httpUrl(true).optional(),
  LLM_TIMEOUT_MS: integer(1000, 600000, 30000),
  LLM_MAX_STEPS: integer(1, 20, 5),
  SIGN_IN_RATE_LIMIT: integer(1, 1000000, 5),
  SIGN_IN_ACCOUNT_RATE_LIMIT: integer(1, 1000000, 30),
  SIGN_UP_RATE_LIMIT: integer(1, 1000000, 10),
  CHAT_RATE_LIMIT: integer(1, 1000000, 20),
  SESSION_CACHE_TTL_MS: integer(0, 60000, 5000),
  SHUTDOWN_DELAY_MS: integer(0, 120000, 5000),
  SHUTDOWN_TIMEOUT_MS: integer(1000, 600000, 25000),
  MIGRATE_WAIT_SECONDS: integer(0, 600, 60),
});

const EnvSchema = EnvObject.superRefine((env, ctx) => {
  // A local OpenAI-compatible server usually needs no key, so the key is only
  // mandatory against the default (real OpenAI) endpoint.
  if (env.LLM_PROVIDER === "openai" && !env.OPENAI_API_KEY && !env.OPENAI_BASE_URL) {
    ctx.addIssue({
      code: "custom",
      path: ["OPENAI_API_KEY"],
      message: "is required when LLM_PROVIDER=openai (or set OPENAI_BASE_URL to a local OpenAI-compatible server)",
    });
  }
  if (env.LLM_PROVIDER === "cohere" && !env.COHERE_API_KEY) {
    ctx.addIssue({ code: "custom", path: ["COHERE_API_KEY"], message: "is required when LLM_PROVIDER=cohere" });
  }
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration, the backend cannot start:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function describeValue(name: string, value: string | undefined): string {
  if (value === undefined) return "";
  if (SECRET_VARIABLES.has(name)) return ` (value hidden, ${value.length} characters)`;
  if (name === "DATABASE_URL") return ` (got "${redactUrlPassword(value)}")`;
  return ` (got "${value}")`;
}

export function redactUrlPassword(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}

/** Empty strings count as unset: Kubernetes ConfigMaps often carry "" for "not configured". */
function readEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(EnvObject.shape)) {
    const value = env[key];
    raw[key] = value === undefined || value.trim() === "" ? undefined : value.trim();
  }
  return raw;
}

function parseEnv<T>(schema: z.ZodType<T>, raw: Record<string, string | undefined>): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "environment");
    return `${name} ${issue.message}${describeValue(name, raw[name])}`;
  });
  throw new ConfigError(problems);
}

/** What `migrate` needs: it must not require the auth secret or LLM keys. */
export interface MigrateConfig {
  databaseUrl: string;
  logLevel: LogLevel;
  /** How long to wait for PostgreSQL to accept connections before giving up. */
  waitSeconds: number;
}

export function loadMigrateConfig(env: NodeJS.ProcessEnv = process.env): MigrateConfig {
  const e = parseEnv(EnvObject.pick({ DATABASE_URL: true, LOG_LEVEL: true, MIGRATE_WAIT_SECONDS: true }), readEnv(env));
  return { databaseUrl: e.DATABASE_URL, logLevel: e.LOG_LEVEL, waitSeconds: e.MIGRATE_WAIT_SECONDS };
}

/**
 * Validates the environment and returns the typed configuration, or throws a
 * ConfigError listing every bad variable (name, value, what is allowed).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(EnvSchema, readEnv(env));
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    betterAuthSecret: e.BETTER_AUTH_SECRET,
    betterAuthUrl: e.BETTER_AUTH_URL ? new URL(e.BETTER_AUTH_URL).origin : undefined,
    logLevel: e.LOG_LEVEL,
    llm: {
      provider: e.LLM_PROVIDER,
      model: e.LLM_MODEL ?? DEFAULT_MODELS[e.LLM_PROVIDER],
      openaiApiKey: e.OPENAI_API_KEY,
      openaiBaseUrl: e.OPENAI_BASE_URL,
      cohereApiKey: e.COHERE_API_KEY,
      cohereBaseUrl: e.COHERE_BASE_URL,
      timeoutMs: e.LLM_TIMEOUT_MS,
      maxSteps: e.LLM_MAX_STEPS,
    },
    rateLimits: {
      signInPerMinute: e.SIGN_IN_RATE_LIMIT,
      signInPerAccountPerMinute: e.SIGN_IN_ACCOUNT_RATE_LIMIT,
      signUpPerMinute: e.SIGN_UP_RATE_LIMIT,
      chatPerMinute: e.CHAT_RATE_LIMIT,
    },
    sessionCacheTtlMs: e.SESSION_CACHE_TTL_MS,
    shutdown: { delayMs: e.SHUTDOWN_DELAY_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
  };
}
