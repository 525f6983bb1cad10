/**
 * What the workloads share: the sector size, the integer schema, and the
 * parsing of their parameters reported in the house style.
 */
import { z } from "zod";
import { didYouMean } from "../_util/mod.ts";

/** Bytes per sector: the unit of every LBA and count the guest's block drivers take. */
export const SECTOR = 512;

/** A zod integer, the base of the workloads' count, LBA and ns fields. */
export const int = (): z.ZodNumber => z.number().int();

function at(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * `schema.parse(input)`, but a failure throws a RangeError in the house style
 * naming every field: `Cannot <what>: 'a.b' <rule>: current value is <v>`.
 */
export function parseParams<S extends z.ZodType>(
  what: string,
  schema: S,
  input: unknown,
): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const parts = r.error.issues.map((i) => {
    if (i.code === "unrecognized_keys") {
      // The parameters a misspelt top-level key was meant as (nested objects are not walked).
      const known = i.path.length === 0 && schema instanceof z.ZodObject
        ? Object.keys(schema.shape)
        : [];
      return i.keys.map((k) =>
        `'${[...i.path.map(String), k].join(".")}' is not a known parameter${
          didYouMean(k, known, (n) => `'${n}'`)
        }`
      ).join("; ");
    }
    const field = i.path.length === 0 ? "(params)" : i.path.map(String).join(".");
    const value = at(input, i.path);
    return `'${field}' ${i.message}: current value is ${
      typeof value === "object" ? JSON.stringify(value) : String(value)
    }`;
  });
  throw new RangeError(`Cannot ${what}: ${parts.join("; ")}`, { cause: r.error });
}
