// SSH key facts the stack needs before anything connects: DigitalOcean's fingerprint of a public key, and whether a
// private key is passphrase-protected. Pure; the values never leave the process.
import { createHash } from "node:crypto";

/** DigitalOcean's fingerprint of an OpenSSH public key line: MD5 of the key blob, hex pairs joined by ":" (what
 *  `ssh-keygen -l -E md5 -f key.pub` prints after "MD5:"). */
export function sshKeyFingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1] ?? "";
  return createHash("md5").update(Buffer.from(blob, "base64")).digest("hex").replace(/(..)(?!$)/g, "$1:");
}

/** A DigitalOcean SSH key reference: numeric id or MD5 fingerprint. */
export const DO_SSH_KEY_REF = /^(\d{1,12}|[0-9a-f]{2}(:[0-9a-f]{2}){15})$/;

const OPENSSH_MAGIC = "openssh-key-v1\0";

/**
 * True when the private key needs a passphrase: an OpenSSH key whose cipher is not "none" (PROTOCOL.key in OpenSSH:
 * magic "openssh-key-v1\0", then the cipher name as a uint32-length string), or an encrypted PEM key (RFC 1421
 * "Proc-Type: 4,ENCRYPTED", PKCS#8 "ENCRYPTED PRIVATE KEY").
 */
export function privateKeyIsEncrypted(key: string): boolean {
  if (/Proc-Type:\s*4,ENCRYPTED/.test(key) || /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(key)) return true;
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(key);
  if (!m) return false;
  const bytes = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  if (bytes.subarray(0, OPENSSH_MAGIC.length).toString("latin1") !== OPENSSH_MAGIC || bytes.length < OPENSSH_MAGIC.length + 4) return false;
  const len = bytes.readUInt32BE(OPENSSH_MAGIC.length);
  const cipher = bytes.subarray(OPENSSH_MAGIC.length + 4, OPENSSH_MAGIC.length + 4 + len).toString("latin1");
  return cipher !== "none";
}
