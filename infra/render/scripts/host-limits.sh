# shellcheck shell=bash
# Inputs: NGINX_CONF, WORKER_CONNECTIONS, WORKER_RLIMIT_NOFILE, CONNLIMIT_SCRIPT, CONNLIMIT_SCRIPT_B64, CONNLIMIT_UNIT,
# CONNLIMIT_UNIT_FILE, CONNLIMIT_UNIT_B64. Part of the host-ready command (runs after host-ready.sh, in place, again
# whenever an input changes); nothing here is in the user-data, whose every change would replace the droplet.
# 1. nginx connection budget: `worker_connections` (events) and `worker_rlimit_nofile` (main) in NGINX_CONF, the
#    distribution's nginx.conf (Debian/Ubuntu ship 768 connections, 1024 files). Edited in place, validated with
#    `nginx -t`, the previous file restored if that fails; nginx reloaded only when the file changed.
# 2. Per-address connection limit (nginx/connlimit.ts): the iptables script CONNLIMIT_SCRIPT (0755) and its oneshot
#    unit CONNLIMIT_UNIT_FILE, enabled and (re)started so a changed rule applies now; without systemd the script
#    itself runs. The script is idempotent (own chain, flushed and refilled; one INPUT jump).

require_commands nginx sed base64 cmp

# --- 1. nginx.conf ---
[ -f "${NGINX_CONF}" ] || die "${NGINX_CONF} not found (is nginx installed?)"
conf_new=$(mktemp "${NGINX_CONF}.new.XXXXXX")
trap 'rm -f "${conf_new}"' EXIT
# worker_connections: replace the value wherever it is set (the events block); worker_rlimit_nofile: drop any
# existing line, then set it right after worker_processes (main context), or first when there is none.
sed -E \
  -e "s/^([[:space:]]*)worker_connections[[:space:]]+[0-9]+[[:space:]]*;/\1worker_connections ${WORKER_CONNECTIONS};/" \
  -e '/^[[:space:]]*worker_rlimit_nofile[[:space:]]/d' \
  "${NGINX_CONF}" >"${conf_new}"
if grep -Eq '^worker_processes[[:space:]]' "${conf_new}"; then
  sed -i -E "0,/^worker_processes[[:space:]].*$/s//&\nworker_rlimit_nofile ${WORKER_RLIMIT_NOFILE};/" "${conf_new}"
else
  sed -i "1i worker_rlimit_nofile ${WORKER_RLIMIT_NOFILE};" "${conf_new}"
fi
grep -Eq "^[[:space:]]*worker_connections ${WORKER_CONNECTIONS};" "${conf_new}" \
  || die "${NGINX_CONF} sets no worker_connections in its events block: add 'worker_connections ${WORKER_CONNECTIONS};' there by hand"
if cmp -s "${conf_new}" "${NGINX_CONF}"; then
  log "nginx: worker_connections ${WORKER_CONNECTIONS}, worker_rlimit_nofile ${WORKER_RLIMIT_NOFILE} (unchanged)"
else
  backup="${NGINX_CONF}.selfhosted-mcp.bak"
  cp -p "${NGINX_CONF}" "${backup}"
  chmod 0644 "${conf_new}"
  mv -f "${conf_new}" "${NGINX_CONF}"
  if ! nginx -t -q -c "${NGINX_CONF}" >&2; then
    mv -f "${backup}" "${NGINX_CONF}"
    die "nginx -t rejected ${NGINX_CONF} with the connection settings (its error above); the previous file is restored"
  fi
  if systemd_running && systemctl is-active --quiet nginx; then
    systemctl reload nginx
  fi
  log "nginx: worker_connections ${WORKER_CONNECTIONS}, worker_rlimit_nofile ${WORKER_RLIMIT_NOFILE} (${backup} keeps the previous file)"
fi

# --- 2. per-address connection limit ---
if ! have iptables; then
  log "installing iptables"
  timeout 300 apt-get install -y --no-install-recommends iptables >/dev/null || die "iptables is missing and could not be installed (apt-get install iptables)"
fi
umask 022
printf '%s' "${CONNLIMIT_SCRIPT_B64}" | base64 -d | write_file_atomic "${CONNLIMIT_SCRIPT}" 0755
printf '%s' "${CONNLIMIT_UNIT_B64}" | base64 -d | write_file_atomic "${CONNLIMIT_UNIT_FILE}" 0644
if systemd_running; then
  systemctl daemon-reload
  systemctl enable --quiet "${CONNLIMIT_UNIT}"
  # A oneshot with RemainAfterExit stays "active": restart (not `enable --now`) runs a changed script again.
  systemctl restart "${CONNLIMIT_UNIT}"
else
  "${CONNLIMIT_SCRIPT}"
fi
log "connection limit applied (${CONNLIMIT_UNIT})"
