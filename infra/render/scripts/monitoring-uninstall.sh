# shellcheck shell=bash
# Inputs: UNITS (space-separated), CONFIG_DIR, DATA_DIR, UNIT_DIR. Stops and disables the monitoring daemons and
# removes what monitoring-install wrote: drop-ins, configuration (with the receivers' secrets) and data. The
# distribution packages stay installed, disabled.

readonly DROPIN_NAME=selfhosted-mcp.conf
for u in ${UNITS}; do
  if systemd_running; then systemctl disable --now --quiet "${u}.service" 2>/dev/null || true; fi
  rm -f "${UNIT_DIR}/${u}.service.d/${DROPIN_NAME}"
  rmdir "${UNIT_DIR}/${u}.service.d" 2>/dev/null || true
done
rm -rf "${CONFIG_DIR}" "${DATA_DIR}"
if systemd_running; then systemctl daemon-reload; fi
log "monitoring stack removed (${UNITS})"
