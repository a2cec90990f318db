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
sed "s/${MARKER}/${KEY}/g" "${TEMPLATE}" > "${OUTPUT}.new"
if [ "${RELOAD}" = true ] && cmp -s "${OUTPUT}.new" "${OUTPUT}"; then
  rm -f "${OUTPUT}.new"
  exit 0
fi
mv "${OUTPUT}.new" "${OUTPUT}"
echo "ollama-proxy-config: wrote ${OUTPUT} with the key from ${PARAMETER}"
if [ "${RELOAD}" = true ]; then
  # reload-or-restart: a running nginx rereads its configuration without dropping connections;
  # a stopped one is started (and runs this script again as ExecStartPre).
  nginx -t
  systemctl reload-or-restart nginx
  echo "ollama-proxy-config: the key in ${PARAMETER} changed; nginx reloaded"
fi
