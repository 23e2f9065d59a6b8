import * as crypto from "node:crypto";

/** Hex SHA-256 of a string or buffer. */
export function sha256(data: string | Buffer): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}

/** A stable digest of string values, independent of key order. */
export function digestOf(values: Record<string, string>): string {
    return sha256(JSON.stringify(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
