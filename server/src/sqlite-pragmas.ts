// How every SQLite file of the server is opened (the notes store, the usage ledger).

/**
 * The PRAGMAs a database opens with:
 * - `journal_mode = WAL`: readers never block the writer.
 * - `synchronous = FULL`: the WAL is synced at every commit. With NORMAL, "a transaction committed in WAL mode
 *   … might roll back following a power loss or system crash" (sqlite.org/pragma.html#pragma_synchronous), i.e.
 *   a note or a billed call the client saw succeed could vanish. A droplet loses power for real: DigitalOcean's
 *   resize powers it off hard (power_off action), and so does a host failure. Cost: one fsync per write.
 * - `busy_timeout` (milliseconds): how long a write waits for another connection's lock before SQLITE_BUSY.
 */
export const sqlitePragmas = (busyTimeoutMs: number): string =>
  `PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = ${busyTimeoutMs};`;
