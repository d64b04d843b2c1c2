# shellcheck shell=bash
# Shared helpers of every selfhosted-mcp remote script. Runs as root (the command wrapper elevates with sudo when
# the SSH user is not root). Every wait below is bounded.

log() { printf '[selfhosted-mcp %s] %s\n' "${SCRIPT_NAME}" "$*"; }
die() { printf '[selfhosted-mcp %s] ERROR: %s\n' "${SCRIPT_NAME}" "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# require_commands CMD...: fail with the list of what is missing on this host.
require_commands() {
  local missing=() c
  for c in "$@"; do have "$c" || missing+=("$c"); done
  [ "${#missing[@]}" -eq 0 ] || die "missing on this host: ${missing[*]} (cloud-init installs them on a fresh droplet)"
}

# write_file_atomic DEST MODE: stdin -> DEST via a temp file in the same directory, then rename.
write_file_atomic() {
  local dest=$1 mode=$2 tmp
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp "${dest}.tmp.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$dest"
}

systemd_running() { [ -d /run/systemd/system ] && have systemctl; }

nginx_master_alive() {
  local pid
  pid=$(cat "${NGINX_PID_FILE}" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# Bound on the wait for a reloaded nginx to run its new configuration (nginx_reload), in tenths of a second.
NGINX_RELOAD_WAIT_TENTHS=600

# nginx_children MASTER_PID: the master's child processes (workers, cache processes), sorted, one a line.
nginx_children() { pgrep -P "$1" | sort; }

# nginx_reload: `nginx -s reload`, then a bounded wait until the master runs the new configuration. The signal
# only asks the master to reload and returns at once; the master then re-reads its files, opens the listening
# sockets the new configuration adds, starts new worker processes and retires the old ones -- or, when it cannot
# apply the configuration (a port it cannot bind, ...), logs the error and keeps the old workers ("Changing
# configuration", nginx.org/en/docs/control.html). Until then a client finds nothing listening on a port the new
# configuration adds: the TLS site's 443 answered connection resets for ~1.5 s after the certificate step's reload
# on the rehearsal's droplet VM (a slow machine), so "serving https://..." was printed before it was true.
# A child of the master that did not exist before the signal = the new configuration is live.
nginx_reload() {
  local master before i
  master=$(cat "${NGINX_PID_FILE}")
  before=$(nginx_children "$master")
  nginx -s reload || return 1
  for ((i = 0; i < NGINX_RELOAD_WAIT_TENTHS; i++)); do
    if comm -13 <(printf '%s\n' "$before") <(nginx_children "$master") | grep -q .; then return 0; fi
    sleep 0.1
  done
  log "nginx (master ${master}) started no workers with the new configuration within $((NGINX_RELOAD_WAIT_TENTHS / 10)) s: it keeps running the previous one (the reason is in nginx's error log, e.g. /var/log/nginx/error.log)"
  return 1
}

# nginx_apply: validate the whole configuration, then reload (or start) nginx; returns once nginx serves it.
# Returns non-zero if it is invalid or a reload is not applied.
nginx_apply() {
  if ! nginx -t -q 2>&1; then
    log "nginx -t failed"
    return 1
  fi
  if nginx_master_alive; then
    nginx_reload || return 1
  elif systemd_running; then
    systemctl enable --now nginx >/dev/null 2>&1 || systemctl restart nginx
  else
    (umask 022 && nginx)
  fi
  log "nginx configuration applied"
}
