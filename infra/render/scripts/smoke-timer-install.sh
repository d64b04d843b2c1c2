# shellcheck shell=bash
# Inputs: UNIT, UNIT_DIR, SMOKE_DIR, TOKEN_FILE (empty without a token), RUN_SMOKE_B64, SERVICE_B64, TIMER_B64
# (base64 of run-smoke.sh and of the two units). Installs the smoke-test timer UNIT from stdin: the token line
# first when TOKEN_FILE is set (stored as SMOKE_TOKEN=... in a 0600 env file, never logged), then the bundled smoke
# CLI, gzip + base64. Enables the timer when systemd runs.

require_commands base64 gzip
# The smoke directory and the units are world-readable; only the token file is private.
umask 022

# put_base64 DEST B64: DEST (mode 0644) holds B64 decoded, replaced atomically.
put_base64() { printf '%s' "$2" | base64 -d | write_file_atomic "$1" 0644; }
put_base64 "${SMOKE_DIR}/run-smoke.sh" "${RUN_SMOKE_B64}"
put_base64 "${UNIT_DIR}/${UNIT}.service" "${SERVICE_B64}"
put_base64 "${UNIT_DIR}/${UNIT}.timer" "${TIMER_B64}"

if [ -n "${TOKEN_FILE}" ]; then
  IFS= read -r token || true
  [ -n "${token}" ] || die "${UNIT}: expected the smoke token as the first line of stdin"
  printf 'SMOKE_TOKEN=%s\n' "${token}" | write_file_atomic "${TOKEN_FILE}" 0600
  unset token
fi

# The bundled smoke CLI: the rest of stdin. Decoded and checked before it replaces the installed one.
bundle=$(mktemp "${SMOKE_DIR}/smoke.mjs.in.XXXXXX")
trap 'rm -f "${bundle}"' EXIT
base64 -d | gzip -dc >"${bundle}" || die "${UNIT}: expected the bundled smoke CLI (gzip + base64) on stdin"
[ -s "${bundle}" ] || die "${UNIT}: the bundled smoke CLI on stdin is empty"
write_file_atomic "${SMOKE_DIR}/smoke.mjs" 0644 <"${bundle}"

if systemd_running; then
  systemctl daemon-reload
  systemctl enable --now "${UNIT}.timer"
  log "${UNIT}.timer enabled"
else
  log "${UNIT}: systemd is not running here; units installed in ${UNIT_DIR} but not enabled"
fi
