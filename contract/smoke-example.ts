// The smoke-example declaration a tool publishes in its `_meta` (under SMOKE_META_KEY) so that
// `selfhosted-mcp smoke <url>` can call it against a deployed server it has no source for and check how well the
// result's fields are populated. Plain data, no imports: the format is a public contract (docs/operability.md).

/** The `_meta` key of a tool definition that carries its SmokeExample. */
export const SMOKE_META_KEY = "selfhosted-mcp/smoke";

export interface FieldThreshold {
  /**
   * Path into the tool's structuredContent: dot-separated keys, `[]` steps into every element of an array,
   * e.g. `days[].temperature_max_c`.
   */
  field: string;
  /** Minimum share (0..1) of the values at `field` that are present and not null / "" / []. Default 1. */
  minPopulated?: number;
}

export interface SmokeExample {
  /** Arguments of one call. Only read-only tools are called, so the call must be safe to repeat in production. */
  arguments?: Record<string, unknown>;
  /** Minimum lengths of array fields (same path syntax), e.g. `{ "days": 3 }`. */
  minItems?: Record<string, number>;
  /** Field-population thresholds asserted on the result. */
  fields?: FieldThreshold[];
  /** Set instead of arguments when the tool cannot be called blind (e.g. it needs an id); the reason is reported. */
  skip?: string;
}

/** The `_meta` object for a tool definition: `registerTool(name, { ..., _meta: smokeMeta({...}) }, cb)`. */
export function smokeMeta(example: SmokeExample): Record<string, unknown> {
  return { [SMOKE_META_KEY]: example };
}
