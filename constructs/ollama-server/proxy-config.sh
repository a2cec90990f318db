#!/bin/bash
# Writes the nginx API-key proxy configuration with the key read from SSM Parameter Store.
# Installed as /usr/local/bin/ollama-proxy-config and run before every start of nginx
# (ExecStartPre), so the key never sits in the instance's user data; and every
# {{refresh_minutes}} minutes with --reload (the ollama-api-key-refresh timer), which reloads
# nginx only when the key changed, so a rotated key takes effect without a login. Rendered by
# renderProxyConfigScript (constructs/ollama-server/render.ts).
# Usage: ollama-proxy-config [--reload] [template output]   (the paths are for tests)
set -euo pipefail
RELOAD=false
if [ "${1:-}" = "--reload" ]; then
  RELOAD=true
  shift
fi
TEMPLATE="${1:-/etc/nginx/ollama.conf.template}"
OUTPUT="${2:-/etc/nginx/conf.d/ollama.conf}"
PARAMETER="{{api_key_parameter}}"
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
umask 077
# A temporary file beside the configuration (not matched by conf.d/*.conf), removed on any exit.
NEW=$(mktemp "${OUTPUT}.XXXXXX")
BACKUP=""
trap 'rm -f "${NEW}" "${BACKUP}"' EXIT
sed "s/${MARKER}/${KEY}/g" "${TEMPLATE}" > "${NEW}"
if [ "${RELOAD}" = false ]; then
  mv "${NEW}" "${OUTPUT}"
  echo "ollama-proxy-config: wrote ${OUTPUT} with the key from ${PARAMETER}"
  exit 0
fi
# --reload: nothing to do while the key is unchanged (a bash comparison: no diffutils needed).
if [ -f "${OUTPUT}" ] && [ "$(<"${NEW}")" = "$(<"${OUTPUT}")" ]; then
  exit 0
fi
if [ -f "${OUTPUT}" ]; then
  BACKUP=$(mktemp "${OUTPUT}.XXXXXX")
  cp -p "${OUTPUT}" "${BACKUP}"
fi
mv "${NEW}" "${OUTPUT}"
# try-reload-or-restart: a running nginx rereads its configuration without dropping
# connections; an nginx stopped on purpose stays stopped (its next start runs this script).
if ! nginx -t || ! systemctl try-reload-or-restart nginx; then
  # Put back what nginx is serving, so the next run sees the change again and retries.
  if [ -n "${BACKUP}" ]; then mv "${BACKUP}" "${OUTPUT}"; fi
  echo "ollama-proxy-config: nginx refused the configuration with the new key from ${PARAMETER}; the previous one is kept" >&2
  exit 1
fi
echo "ollama-proxy-config: the key in ${PARAMETER} changed; nginx reloaded"
