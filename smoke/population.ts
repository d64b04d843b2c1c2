// Field-population checks on a tool result: how many of the values at a path are actually there. This is what
// catches the "200 OK full of nulls" failure that status codes and schemas let through. Pure functions.
import type { FieldThreshold } from "../contract/smoke-example.ts";

export interface FieldResult {
  field: string;
  /** Values found at the path (one per array element when the path steps through `[]`). */
  total: number;
  populated: number;
  /** Required share, 0..1. */
  required: number;
  ok: boolean;
}

export interface ItemsResult { field: string; min: number; /** Smallest length found (-1: not an array). */ found: number; ok: boolean }

/** True when a value carries data: not missing, null, "" or []. */
export function isPopulated(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "string") return v.trim() !== "";
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/**
 * All values at `path` ("a.b", "days[].temp", "a[].b[].c"). A missing intermediate counts as one missing value,
 * so a renamed parent shows up as 0 % populated instead of silently vanishing from the count.
 */
export function valuesAt(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path.split(".")) {
    const spread = segment.endsWith("[]");
    const key = spread ? segment.slice(0, -2) : segment;
    const next: unknown[] = [];
    for (const v of current) {
      const child = key === "" ? v : (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined);
      if (!spread) next.push(child);
      else if (Array.isArray(child)) next.push(...child);
      else next.push(undefined);
    }
    current = next;
  }
  return current;
}

export function checkField(root: unknown, t: FieldThreshold): FieldResult {
  const values = valuesAt(root, t.field);
  const populated = values.filter(isPopulated).length;
  const required = t.minPopulated ?? 1;
  // No entries at all (e.g. an empty search result) is not a population failure; minItems guards emptiness.
  const ok = values.length === 0 || populated / values.length >= required - 1e-9;
  return { field: t.field, total: values.length, populated, required, ok };
}

export function checkItems(root: unknown, field: string, min: number): ItemsResult {
  const lengths = valuesAt(root, field).map((v) => (Array.isArray(v) ? v.length : -1));
  const found = lengths.length ? Math.min(...lengths) : -1;
  return { field, min, found, ok: found >= min };
}

const pct = (x: number) => `${Math.round(x * 100)} %`;

export function describeField(r: FieldResult): string {
  const share = r.total ? r.populated / r.total : 1;
  return `${r.field}: ${r.populated} of ${r.total} populated (${pct(share)}), required ≥ ${pct(r.required)}`;
}

export function describeItems(r: ItemsResult): string {
  return r.found < 0 ? `${r.field}: not an array (missing or renamed), required ≥ ${r.min} entries`
    : `${r.field}: ${r.found} entries, required ≥ ${r.min}`;
}
