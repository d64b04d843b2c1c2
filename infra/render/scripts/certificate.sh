# shellcheck shell=bash
# Inputs: HOST_ID, DOMAIN, STATE_DIR, SITE_FILE, NGINX_PID_FILE, CERT_FILE, ACME_CA_BUNDLE (empty:
# system CAs). The certificate command: runs after the deploy (which serves the HTTP-only site until a certificate
# exists) and after DOMAIN points at this host (reserved IP / DNS records move only after the deploy). Issues the
# certificate with certbot (webroot) when it is missing, then installs the TLS site. Idempotent.

require_commands nginx pgrep
[ -f "${STATE_DIR}/nginx-tls.conf" ] || die "the deploy step has not run on host ${HOST_ID} (no ${STATE_DIR}/nginx-tls.conf)"
if [ ! -f "${CERT_FILE}" ]; then
  log "no certificate at ${CERT_FILE}: certbot (webroot) through the HTTP-only site"
  if [ -n "${ACME_CA_BUNDLE}" ]; then export REQUESTS_CA_BUNDLE="${ACME_CA_BUNDLE}"; fi
  # The issuance script makes the webroot readable by nginx's workers itself (umask 022, directories 0755).
  sh "${STATE_DIR}/issue-certificate.sh" ||
    die "certificate issuance for ${DOMAIN} failed: ${DOMAIN} must resolve to this host and port 80 must be reachable (see certbot's output above)"
  [ -f "${CERT_FILE}" ] || die "certbot finished but ${CERT_FILE} is missing"
fi
if cmp -s "${STATE_DIR}/nginx-tls.conf" "${SITE_FILE}" && nginx_master_alive; then
  log "the TLS site is already in place"
  exit 0
fi
backup=$(mktemp)
trap 'rm -f "$backup"' EXIT
had_site=""
if [ -f "${SITE_FILE}" ]; then cp -p "${SITE_FILE}" "$backup"; had_site=1; fi
write_file_atomic "${SITE_FILE}" 0644 <"${STATE_DIR}/nginx-tls.conf"
if ! nginx_apply; then
  if [ -n "$had_site" ]; then cp -p "$backup" "${SITE_FILE}"; else rm -f "${SITE_FILE}"; fi
  if nginx_master_alive; then nginx_apply || true; fi
  die "the TLS nginx site does not validate (the previous site was restored)"
fi
log "serving https://${DOMAIN} with ${CERT_FILE}"
