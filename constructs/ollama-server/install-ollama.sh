#!/bin/bash
# Installs one pinned Ollama release from GitHub, verified before anything is unpacked: the
# archive's SHA-256 must equal the stack's ollamaSha256 or, when that is empty, the line of the
# release's own sha256sum.txt. Replaces piping the upstream install script to sh. Installed as
# /usr/local/bin/ollama-install and run once by the user data. Rendered by
# renderInstallScript (constructs/ollama-server/render.ts).
# Usage: ollama-install [prefix]   (the prefix is for tests; /usr on the instance)
set -euo pipefail
PREFIX="${1:-/usr}"
VERSION="{{ollama_version}}"
ARCHIVE="{{ollama_archive}}"
EXPECTED="{{ollama_sha256}}"
BASE="https://github.com/ollama/ollama/releases/download/v${VERSION}"

WORK=$(mktemp -d)
trap 'rm -rf "${WORK}"' EXIT
curl -fsSL --retry 3 -o "${WORK}/${ARCHIVE}" "${BASE}/${ARCHIVE}"
if [ -z "${EXPECTED}" ]; then
  curl -fsSL --retry 3 -o "${WORK}/sha256sum.txt" "${BASE}/sha256sum.txt"
  EXPECTED=$(awk -v name="${ARCHIVE}" '$2 == name || $2 == "./" name { print $1; exit }' "${WORK}/sha256sum.txt")
  if [ -z "${EXPECTED}" ]; then
    echo "ollama-install: ${ARCHIVE} is not listed in the sha256sum.txt of v${VERSION}" >&2
    exit 1
  fi
  echo "ollama-install: no ollamaSha256 in the stack configuration; verifying against the release's sha256sum.txt"
fi
ACTUAL=$(sha256sum "${WORK}/${ARCHIVE}" | awk '{ print $1 }')
if [ "${ACTUAL}" != "${EXPECTED}" ]; then
  echo "ollama-install: ${ARCHIVE} of v${VERSION} has SHA-256 ${ACTUAL}, expected ${EXPECTED}; nothing installed" >&2
  exit 1
fi
mkdir -p "${PREFIX}"
# A release's libraries replace the previous ones, never mix with them.
rm -rf "${PREFIX}/lib/ollama"
# tar picks the decompressor itself (zstd for .tar.zst, gzip for .tgz).
tar -x -C "${PREFIX}" -f "${WORK}/${ARCHIVE}"
echo "ollama-install: installed Ollama v${VERSION} (${ARCHIVE}, sha256 ${ACTUAL})"
