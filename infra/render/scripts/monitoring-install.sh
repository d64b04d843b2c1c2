# shellcheck shell=bash
# Inputs: PACKAGES, UNITS (space-separated, same order: prometheus, alertmanager, node_exporter), CONFIG_DIR,
# PROMETHEUS_DATA, ALERTMANAGER_DATA, TEXTFILE_DIR, UNIT_DIR, READY_URLS (space-separated), READY_TIMEOUT_SECONDS,
# PROMETHEUS_YML_B64, RULES_B64, DROPINS_B64 (space-separated, one per unit; base64 of each file).
# Installs or updates the monitoring stack: the Alertmanager configuration (it holds the receivers' secrets) is the
# one line of stdin (base64), written 0600 for the daemons' user only and never logged. On an update every file is
# validated (promtool check config, amtool check-config) before it replaces the running one, so a bad file leaves the
# old stack running; daemons restart only when their drop-in changed, otherwise they reload (SIGHUP). Data survives.

require_commands base64 cmp
readonly DROPIN_NAME=selfhosted-mcp.conf
read -r -a units <<<"${UNITS}"
read -r -a dropins <<<"${DROPINS_B64}"
[ "${#units[@]}" -eq "${#dropins[@]}" ] || die "UNITS and DROPINS_B64 differ in length"

stage=$(mktemp -d)
trap 'rm -rf "${stage}"' EXIT
IFS= read -r am_b64 || true
[ -n "${am_b64:-}" ] || die "expected the Alertmanager configuration (base64, one line) on stdin"
printf '%s' "${am_b64}" | base64 -d >"${stage}/alertmanager.yml" || die "stdin is not base64"
unset am_b64
printf '%s' "${PROMETHEUS_YML_B64}" | base64 -d >"${stage}/prometheus.yml"
printf '%s' "${RULES_B64}" | base64 -d >"${stage}/alerts.yml"
for i in "${!units[@]}"; do printf '%s' "${dropins[$i]}" | base64 -d >"${stage}/${units[$i]}.conf"; done

# validate: promtool / amtool on the staged files (rule_files is relative: resolved next to prometheus.yml).
validate() {
  promtool check config "${stage}/prometheus.yml" >/dev/null || die "prometheus.yml does not validate (promtool check config); the running stack is unchanged"
  amtool check-config "${stage}/alertmanager.yml" >/dev/null 2>&1 || die "alertmanager.yml does not validate (amtool check-config); the running stack is unchanged"
  log "configuration validated (promtool, amtool)"
}

missing=()
for p in ${PACKAGES}; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'install ok installed' || missing+=("${p}")
done
if [ "${#missing[@]}" -eq 0 ]; then validate; fi

# put NAME DEST MODE: staged NAME -> DEST; records whether it changed.
changed=" "
put() {
  if cmp -s "${stage}/$1" "$2"; then return; fi
  write_file_atomic "$2" "$3" <"${stage}/$1"
  changed+="$1 "
}
install -d -m 0755 "${CONFIG_DIR}"
put prometheus.yml "${CONFIG_DIR}/prometheus.yml" 0644
put alerts.yml "${CONFIG_DIR}/alerts.yml" 0644
put alertmanager.yml "${CONFIG_DIR}/alertmanager.yml" 0600
# Drop-ins first: a package installed below starts its daemon with them (loopback ports, our files).
for u in "${units[@]}"; do put "${u}.conf" "${UNIT_DIR}/${u}.service.d/${DROPIN_NAME}" 0644; done

if [ "${#missing[@]}" -gt 0 ]; then
  require_commands apt-get
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null; }
  apt_install || { apt-get update -q -o DPkg::Lock::Timeout=300 >/dev/null && apt_install; } || die "apt-get could not install ${missing[*]}"
  validate
fi

chown prometheus:prometheus "${CONFIG_DIR}/alertmanager.yml"
install -d -m 0750 -o prometheus -g prometheus "${PROMETHEUS_DATA}" "${ALERTMANAGER_DATA}"
install -d -m 0755 "${TEXTFILE_DIR}"

if ! systemd_running; then
  log "systemd is not running here: files installed in ${CONFIG_DIR} and ${UNIT_DIR}, daemons not started"
  exit 0
fi
# configs_of UNIT: the files a daemon re-reads on SIGHUP (node_exporter has none, and SIGHUP would stop it).
configs_of() {
  case "$1" in
    "${units[0]}") echo "prometheus.yml alerts.yml" ;;
    "${units[1]}") echo "alertmanager.yml" ;;
  esac
}
systemctl daemon-reload
for u in "${units[@]}"; do
  systemctl enable --quiet "${u}.service"
  if [[ "${changed}" == *" ${u}.conf "* ]] || ! systemctl is-active --quiet "${u}.service"; then
    systemctl restart "${u}.service"
    continue
  fi
  for f in $(configs_of "${u}"); do
    if [[ "${changed}" == *" ${f} "* ]]; then systemctl reload "${u}.service"; break; fi
  done
done
deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
for url in ${READY_URLS}; do
  until curl -fsS -o /dev/null -m 2 "${url}"; do
    [ "${SECONDS}" -lt "${deadline}" ] || die "${url} not ready within ${READY_TIMEOUT_SECONDS}s (journalctl -u ${UNITS// / -u })"
    sleep 1
  done
done
log "monitoring stack running (${UNITS})"
