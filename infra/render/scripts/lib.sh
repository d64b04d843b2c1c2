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

# nginx_apply: validate the whole configuration, then reload (or start) nginx. Returns non-zero if invalid.
nginx_apply() {
  if ! nginx -t -q 2>&1; then
    log "nginx -t failed"
    return 1
  fi
  if nginx_master_alive; then
    nginx -s reload
  elif systemd_running; then
    systemctl enable --now nginx >/dev/null 2>&1 || systemctl restart nginx
  else
    (umask 022 && nginx)
  fi
  log "nginx configuration applied"
}
