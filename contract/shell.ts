// Shell quoting for every command line the project renders (remote scripts, certbot, the usage CLI over SSH, the
// docker run line). One rule: POSIX sh single quotes (XCU 2.2.2), so nothing inside a word is ever interpreted.
// This module imports nothing of the project (contract/ is the bottom layer).

/** Quotes one word for POSIX sh (single quotes; words made only of safe characters stay bare). */
export function shellQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A whole command line for sh, e.g. shellCommand(["docker", ...dockerRunArgs(spec)]). */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
