import type { BetterAuthOptions } from "better-auth";
import { bearer } from "better-auth/plugins/bearer";
import type { Kysely } from "kysely";

export interface AuthSettings {
  // Better Auth's adapter works on untyped tables; our Database type lists only ours.
  db: Kysely<any>;
  secret: string;
  /** Public origin; undefined means "derive it from each request". */
  baseURL: string | undefined;
  logger?: BetterAuthOptions["logger"];
}

/** Maps Better Auth's camelCase field names onto snake_case columns. */
function snakeCase<const K extends string>(...fields: K[]): Record<K, string> {
  return Object.fromEntries(fields.map((f) => [f, f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)])) as Record<
    K,
    string
  >;
}

/**
 * Better Auth's configuration. Shared by the server and by the test that proves
 * our versioned migrations create exactly the schema Better Auth expects.
 */
export function authOptions(settings: AuthSettings): BetterAuthOptions {
  return {
    appName: "Todo AI Chatbot",
    secret: settings.secret,
    baseURL: settings.baseURL,
    basePath: "/api/auth",
    database: { db: settings.db, type: "postgres" },
    emailAndPassword: { enabled: true, autoSignIn: true, minPasswordLength: 8, maxPasswordLength: 128 },
    plugins: [bearer()],
    // Sign-in attempts are limited per e-mail address by the API layer (routes/auth.ts);
    // Better Auth's limiter keys on client IP, which behind the frontend proxy is the proxy's.
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: settings.logger,
    advanced: {
      // Secure cookies exactly when the public origin is known to be https. Left to itself,
      // Better Auth marks them Secure whenever NODE_ENV=production and no baseURL is set,
      // and a browser on http://<node ip>:30080 then drops the session cookie: sign-in
      // silently fails. With BETTER_AUTH_URL unset the app is reached over whatever the
      // user has (NodePort, minikube service, localhost); behind TLS, set BETTER_AUTH_URL
      // to the https origin (the Pulumi program does whenever an Ingress fronts the app).
      useSecureCookies: settings.baseURL !== undefined && settings.baseURL.startsWith("https://"),
      // The schema is owned by our versioned migrations and checked by /ready; Better Auth's
      // runtime check would cache a "mismatch" verdict forever if a request arrived before
      // the migration job finished.
      database: { validateSchema: false },
    },
    user: { modelName: "users", fields: snakeCase("emailVerified", "createdAt", "updatedAt") },
    session: {
      modelName: "sessions",
      fields: snakeCase("expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent", "userId"),
    },
    account: {
      modelName: "accounts",
      fields: snakeCase(
        "accountId",
        "providerId",
        "userId",
        "accessToken",
        "refreshToken",
        "idToken",
        "accessTokenExpiresAt",
        "refreshTokenExpiresAt",
        "createdAt",
        "updatedAt",
      ),
    },
    verification: { modelName: "verifications", fields: snakeCase("expiresAt", "createdAt", "updatedAt") },
  };
}
