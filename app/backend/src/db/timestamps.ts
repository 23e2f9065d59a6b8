import pg from "pg";

const parseAnyTimestamp = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, "text") as (text: string) => Date;

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Parses a `timestamptz` as PostgreSQL sends it with its default DateStyle
 * (`2026-11-22 22:24:45.286123+00`, `...45+05:30`) into a Date, truncated to
 * milliseconds like pg's own parser. Every task list carries two per task, and
 * pg's general-purpose parser (a regular expression, then `Date.UTC`) was the
 * largest single cost of GET /api/tasks in Node; this one reads the digits in
 * place. Anything else (BC dates, infinity, years before 1000, other
 * DateStyles, second-precision offsets) goes to pg's parser unchanged.
 */
export function parseTimestamptz(text: string): Date {
  // Fixed part: "YYYY-MM-DD HH:MM:SS", then optional ".f" (1-6 digits), then "±HH" or "±HH:MM".
  if (
    text.length < 22 ||
    text[4] !== "-" ||
    text[7] !== "-" ||
    text[10] !== " " ||
    text[13] !== ":" ||
    text[16] !== ":"
  ) {
    return parseAnyTimestamp(text);
  }
  let i = 19;
  let millis = 0;
  if (text[i] === ".") {
    const start = ++i;
    while (i < text.length && i - start < 6 && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    if (i === start) return parseAnyTimestamp(text);
    const fraction = digits(text, start, Math.min(i - start, 3));
    millis = fraction * 10 ** (3 - Math.min(i - start, 3));
  }
  const sign = text[i] === "+" ? 1 : text[i] === "-" ? -1 : 0;
  const hasMinutes = text[i + 3] === ":";
  if (sign === 0 || text.length !== i + (hasMinutes ? 6 : 3)) return parseAnyTimestamp(text);
  const year = digits(text, 0, 4);
  const offsetMinutes = sign * (digits(text, i + 1, 2) * 60 + (hasMinutes ? digits(text, i + 4, 2) : 0));
  const utc = Date.UTC(
    year,
    digits(text, 5, 2) - 1,
    digits(text, 8, 2),
    digits(text, 11, 2),
    digits(text, 14, 2),
    digits(text, 17, 2),
    millis,
  );
  // NaN: a non-digit somewhere; years below 1000 are left to pg (Date.UTC maps 0-99 to 1900-1999).
  if (Number.isNaN(utc) || Number.isNaN(offsetMinutes) || year < 1000) return parseAnyTimestamp(text);
  return new Date(utc - offsetMinutes * 60_000);
}
