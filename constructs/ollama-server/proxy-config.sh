#!/bin/bash
# Writes the nginx API-key proxy configuration with the key read from SSM Parameter Store, and
# the proxy's TLS certificate and private key beside it (from SSM too). Installed as
# /usr/local/bin/ollama-proxy-config and run before every start of nginx (ExecStartPre), so
# neither the API key nor the TLS key sits in the instance's user data; and every
# {{refresh_minutes}} minutes with --reload (the ollama-api-key-refresh timer), which reloads
# nginx only when something changed, so a rotated key or a renewed certificate takes effect
# without a login. Rendered by renderProxyConfigScript (constructs/ollama-server/render.ts).
# Usage: ollama-proxy-config [--reload] [template output tls-dir]   (the paths are for tests)
set -euo pipefail
RELOAD=false
if [ "${1:-}" = "--reload" ]; then
  RELOAD=true
  shift
fi
TEMPLATE="${1:-/etc/nginx/ollama.conf.template}"
OUTPUT="${2:-/etc/nginx/conf.d/ollama.conf}"
TLS_DIR="${3:-{{tls_dir}}}"
PARAMETER="{{api_key_parameter}}"
TLS_KEY_PARAMETER="{{tls_key_parameter}}"
TLS_CERTIFICATE_PARAMETER="{{tls_certificate_parameter}}"
MARKER="{{api_key_marker}}"

# The instance's region, from the instance metadata service (IMDSv2).
TOKEN=$(curl -fsS --max-time 5 -X PUT "http://169.254.169.254/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
REGION=$(curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: ${TOKEN}" "http://169.254.169.254/latest/meta-data/placement/region")
KEY=$(aws ssm get-parameter --region "${REGION}" --name "${PARAMETER}" --with-decryption --query Parameter.Value --output text)
# The key goes into an nginx regex and a sed replacement: letters, digits, '_' and '-' only.
if [[ ! "${KEY}" =~ ^[A-Za-z0-9_-]+$ ]]; then
  echo "ollama-proxy-config: ${PARAMETER} is empty or holds characters other than letters, digits, '_' and '-'" >&2
  exit 1
fi
TLS_KEY=$(aws ssm get-parameter --region "${REGION}" --name "${TLS_KEY_PARAMETER}" --with-decryption --query Parameter.Value --output text)
TLS_CERTIFICATE=$(aws ssm get-parameter --region "${REGION}" --name "${TLS_CERTIFICATE_PARAMETER}" --query Parameter.Value --output text)
if [[ "${TLS_KEY}" != "-----BEGIN "*"PRIVATE KEY-----"* ]]; then
  echo "ollama-proxy-config: ${TLS_KEY_PARAMETER} does not hold a PEM private key" >&2
  exit 1
fi
if [[ "${TLS_CERTIFICATE}" != "-----BEGIN CERTIFICATE-----"* ]]; then
  echo "ollama-proxy-config: ${TLS_CERTIFICATE_PARAMETER} does not hold a PEM certificate" >&2
  exit 1
fi
umask 077
mkdir -p "${TLS_DIR}"
# Temporary files beside their targets (not matched by conf.d/*.conf), removed on any exit.
NEW=$(mktemp "${OUTPUT}.XXXXXX")
NEW_KEY=$(mktemp "${TLS_DIR}/ollama.key.XXXXXX")
NEW_CERTIFICATE=$(mktemp "${TLS_DIR}/ollama.crt.XXXXXX")
BACKUP=""
trap 'rm -f "${NEW}" "${NEW_KEY}" "${NEW_CERTIFICATE}"; if [ -n "${BACKUP}" ]; then rm -rf "${BACKUP}"; fi' EXIT
sed "s/${MARKER}/${KEY}/g" "${TEMPLATE}" > "${NEW}"
printf '%s\n' "${TLS_KEY}" > "${NEW_KEY}"
printf '%s\n' "${TLS_CERTIFICATE}" > "${NEW_CERTIFICATE}"
install_all() {
  mv "${NEW_KEY}" "${TLS_DIR}/ollama.key"
  mv "${NEW_CERTIFICATE}" "${TLS_DIR}/ollama.crt"
  mv "${NEW}" "${OUTPUT}"
}
if [ "${RELOAD}" = false ]; then
  install_all
  echo "ollama-proxy-config: wrote ${OUTPUT} with the key from ${PARAMETER}, and the TLS certificate and key"
  exit 0
fi
# --reload: nothing to do while nothing changed (bash comparisons: no diffutils needed).
same() { [ -f "$2" ] && [ "$(<"$1")" = "$(<"$2")" ]; }
if same "${NEW}" "${OUTPUT}" && same "${NEW_KEY}" "${TLS_DIR}/ollama.key" && same "${NEW_CERTIFICATE}" "${TLS_DIR}/ollama.crt"; then
  exit 0
fi
BACKUP=$(mktemp -d "${TLS_DIR}/previous.XXXXXX")
for file in "${OUTPUT}" "${TLS_DIR}/ollama.key" "${TLS_DIR}/ollama.crt"; do
  if [ -f "${file}" ]; then cp -p "${file}" "${BACKUP}/$(basename "${file}")"; fi
done
install_all
# try-reload-or-restart: a running nginx rereads its configuration without dropping
# connections; an nginx stopped on purpose stays stopped (its next start runs this script).
if ! nginx -t || ! systemctl try-reload-or-restart nginx; then
  # Put back what nginx is serving, so the next run sees the change again and retries.
  for file in "${OUTPUT}" "${TLS_DIR}/ollama.key" "${TLS_DIR}/ollama.crt"; do
    if [ -f "${BACKUP}/$(basename "${file}")" ]; then mv "${BACKUP}/$(basename "${file}")" "${file}"; fi
  done
  echo "ollama-proxy-config: nginx refused the configuration with the new key from ${PARAMETER} or the new TLS certificate; the previous one is kept" >&2
  exit 1
fi
echo "ollama-proxy-config: the key in ${PARAMETER} or the TLS certificate changed; nginx reloaded"
