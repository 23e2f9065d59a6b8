import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { parseTimestamptz } from "../src/db/timestamps.js";

// pg's own parser is the reference: the fast path must agree with it on everything PostgreSQL sends.
const reference = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, "text") as (text: string) => Date | number;

function same(text: string): void {
  const expected = reference(text);
  const actual = parseTimestamptz(text);
  assert.equal(
    actual instanceof Date ? actual.getTime() : actual,
    expected instanceof Date ? expected.getTime() : expected,
    text,
  );
}

describe("timestamptz parsing", () => {
  it("agrees with pg's parser for every fraction length, with and without one", () => {
    for (const fraction of ["", ".1", ".12", ".123", ".1234", ".12345", ".123456", ".999999", ".000001"]) {
      same(`2026-11-22 22:24:45${fraction}+00`);
    }
  });

  it("applies hour and hour:minute offsets on both sides of UTC, across day and year boundaries", () => {
    for (const offset of ["+00", "+01", "-08", "+05:30", "-03:30", "+14", "-12", "+05:45"]) {
      same(`2026-12-31 23:59:59.999${offset}`);
      same(`2027-01-01 00:00:00${offset}`);
      same(`2024-02-29 12:00:00.5${offset}`);
    }
  });

  it("leaves what it does not recognise to pg: infinity, BC, short or long years, second offsets", () => {
    for (const text of [
      "infinity",
      "-infinity",
      "2000-01-01 00:00:00+00 BC",
      "0050-06-15 10:00:00+00",
      "0999-06-15 10:00:00+00",
      "12026-11-22 22:24:45+00",
      "1883-11-18 11:59:59+05:53:28",
      "2026-11-22 22:24:45.1234567+00",
    ]) {
      same(text);
    }
  });

  it("truncates to milliseconds like pg does, rather than rounding", () => {
    assert.equal(parseTimestamptz("2026-11-22 22:24:45.999999+00").toISOString(), "2026-11-22T22:24:45.999Z");
  });
});
