// Registry credentials as a docker client config.json: what the host's `docker pull` reads (DOCKER_CONFIG), and
// what DigitalOcean's registry credentials resource returns. Pure helpers; the values are secrets.

/** The registry host of an address like `host[:port]/namespace`. */
export function registryHost(server: string): string {
  return server.replace(/^https?:\/\//, "").split("/")[0]!;
}

/** A config.json holding credentials for one registry (empty auths when anonymous). */
export function renderDockerConfig(server: string, username?: string, password?: string): string {
  const auths = username ? { [registryHost(server)]: { auth: Buffer.from(`${username}:${password ?? ""}`).toString("base64") } } : {};
  return JSON.stringify({ auths }, null, 2) + "\n";
}

/** Username/password for `server` from a config.json (e.g. digitalocean.ContainerRegistryDockerCredentials). */
export function credentialsFromDockerConfig(configJson: string, server: string): { username: string; password: string } {
  let parsed: { auths?: Record<string, { auth?: string }> };
  try { parsed = JSON.parse(configJson); } catch { throw new Error("registry credentials are not a docker config.json document"); }
  const host = registryHost(server);
  const entry = parsed.auths?.[host] ?? Object.entries(parsed.auths ?? {}).find(([k]) => registryHost(k) === host)?.[1];
  if (!entry?.auth) throw new Error(`registry credentials hold no auth entry for ${host}`);
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw new Error(`registry credentials for ${host} are not user:password`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
