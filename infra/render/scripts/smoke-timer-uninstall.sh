# shellcheck shell=bash
# Inputs: UNIT, UNIT_DIR, SMOKE_DIR, TOKEN_FILE (empty without a token). Disables the smoke-test timer UNIT and
# removes everything smoke-timer-install wrote.

if systemd_running; then systemctl disable --now "${UNIT}.timer" 2>/dev/null || true; fi
rm -f "${UNIT_DIR}/${UNIT}.service" "${UNIT_DIR}/${UNIT}.timer"
rm -rf "${SMOKE_DIR}"
if [ -n "${TOKEN_FILE}" ]; then rm -f "${TOKEN_FILE}"; fi
if systemd_running; then systemctl daemon-reload; fi
log "${UNIT} removed"
