// Notes tools over the SQLite store: idempotent save_note, get_note by id, search_notes with a bounded limit.
import * as z from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Store, Note } from "../store.ts";
import { ToolError, type ToolCalls } from "./instrument.ts";
import { smokeMeta } from "../../../contract/smoke-example.ts";
import type { Billing } from "../metering/billing.ts";
import { principalOf } from "../auth.ts";

const MAX_SEARCH_LIMIT = 50;

const noteShape = {
  id: z.string().describe("Note id (UUID)."),
  request_id: z.string().describe("The request_id the note was created with."),
  title: z.string(),
  body: z.string(),
  tags: z.array(z.string()),
  created_at: z.string().describe("Creation time, ISO 8601 UTC."),
};
const NoteSchema = z.object(noteShape);
const noteOut = (n: Note) => ({ ...n });

// Tool configs are built once per process: stateless mode registers the tools on a new McpServer for every
// request, and building zod schemas was most of that request's CPU (BENCHMARKS.md). registerTool uses a ready
// z.object as is.
const SAVE_NOTE = {
  title: "Save a note",
  description:
    "Store a short text note (title, body, optional tags) and return its id. Idempotent: pass a fresh unique request_id " +
    "(e.g. a UUID) per new note and reuse the same request_id when retrying the same call — a retry returns the " +
    "already stored note instead of creating a duplicate. Reusing a request_id with different content is an error.",
  inputSchema: z.object({
    request_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/, "8-128 characters: letters, digits, . _ : -")
      .describe("Client-chosen idempotency key, unique per note: 8-128 characters of letters, digits, '.', '_', ':', '-' (a UUID works)."),
    title: z.string().trim().min(1).max(200).describe("Note title, 1-200 characters."),
    body: z.string().min(1).max(10_000).describe("Note text, 1-10000 characters."),
    tags: z.array(z.string().trim().min(1).max(40)).max(10).default([]).describe("Up to 10 tags, each 1-40 characters (optional)."),
  }),
  outputSchema: z.object({ note: NoteSchema, replayed: z.boolean().describe("true when this request_id was already stored and nothing new was written.") }),
  annotations: { title: "Save a note", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
};

const GET_NOTE = {
  title: "Get a note by id",
  description: "Fetch one stored note by the id that save_note or search_notes returned. Fails with not_found if no note has that id.",
  inputSchema: z.object({ id: z.uuid().describe("The note's id (a UUID as returned by save_note).") }),
  outputSchema: z.object({ note: NoteSchema }),
  annotations: { title: "Get a note by id", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  _meta: smokeMeta({ skip: "needs the id of an existing note, and the smoke test never writes; search_notes covers the store" }),
};

const SEARCH_NOTES = {
  title: "Search notes",
  description: "Find stored notes whose title, body or tags contain the given text (case-insensitive), newest first. Returns at most `limit` notes. Queries of 3 or more characters use the index; a search that runs too long is stopped with an error (use a more specific query).",
  inputSchema: z.object({
    query: z.string().min(1).max(200).describe("Text to look for in title, body or tags, 1-200 characters."),
    limit: z.number().int().min(1).max(MAX_SEARCH_LIMIT).default(10).describe(`Maximum number of notes to return, 1-${MAX_SEARCH_LIMIT} (default 10).`),
  }),
  outputSchema: z.object({ notes: z.array(NoteSchema), count: z.number().int().describe("Number of notes returned.") }),
  annotations: { title: "Search notes", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  _meta: smokeMeta({ arguments: { query: "smoke", limit: 5 }, fields: [{ field: "count" }, { field: "notes[].id" }, { field: "notes[].created_at" }] }),
};

type SaveArgs = { request_id: string; title: string; body: string; tags: string[] };
type SearchArgs = { query: string; limit: number };
// Metering (docs/server.md): a saved note is one unit, billed once per request_id however often it is replayed;
// a search is one unit, and the free plan gets at most 5 results. get_note is not metered.
const SAVE_NOTE_BILLING: Billing<SaveArgs> = { units: 1, idempotencyKey: (a) => a.request_id };
const SEARCH_NOTES_BILLING: Billing<SearchArgs> = { units: 1, planLimits: { limit: { free: 5 } } };

export function registerNoteTools(server: McpServer, deps: { calls: ToolCalls; store: Store }): void {
  server.registerTool("save_note", SAVE_NOTE, deps.calls.wrap("save_note", ({ request_id, title, body, tags }: SaveArgs, extra) => {
    // Stored bytes count against the caller's quota (NOTES_QUOTA_BYTES): its API key, or its OAuth issuer + subject.
    const { note, replayed } = deps.store.saveNote(request_id, { title, body, tags }, principalOf(extra.authInfo));
    return { note: noteOut(note), replayed };
  }, SAVE_NOTE_BILLING));

  server.registerTool("get_note", GET_NOTE, deps.calls.wrap("get_note", ({ id }: { id: string }) => {
    const note = deps.store.getNote(id);
    if (!note) throw new ToolError("not_found", `no note with id ${id}; use search_notes to find notes`);
    return { note: noteOut(note) };
  }));

  server.registerTool("search_notes", SEARCH_NOTES, deps.calls.wrap("search_notes", async ({ query, limit }: SearchArgs) => {
    const notes = (await deps.store.searchNotes(query, limit)).map(noteOut);
    return { notes, count: notes.length };
  }, SEARCH_NOTES_BILLING));
}
