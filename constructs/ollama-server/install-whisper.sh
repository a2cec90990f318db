#!/bin/bash
# Installs voice transcription on the Ollama instance: an audio-only ffmpeg (Amazon Linux 2023
# has no ffmpeg package) and whisper.cpp's server, each built here from a pinned source release
# whose SHA-256 is checked before it is unpacked, and the whisper.cpp model. Neither project
# publishes a checksum file to fall back on, so without a pinned SHA-256 this installs nothing
# (the stack then leaves it out of the user data and synth warns). The model is used only when
# its SHA-1 is the one whisper.cpp publishes; it is kept in S3 beside Ollama's models, so a
# replaced instance does not download it again. Installed as /usr/local/bin/whisper-install and
# run once by the user data. Rendered by renderWhisperInstallScript (constructs/ollama-server/render.ts).
# Usage: whisper-install [prefix] [models-dir]   (for tests; /usr/local and {{models_dir}} on the instance)
set -euo pipefail
PREFIX="${1:-/usr/local}"
MODELS_DIR="${2:-{{models_dir}}}"
WHISPER_VERSION="{{whisper_version}}"
WHISPER_SHA256="{{whisper_sha256}}"
WHISPER_URL="https://github.com/ggml-org/whisper.cpp/archive/refs/tags/v${WHISPER_VERSION}.tar.gz"
FFMPEG_VERSION="{{ffmpeg_version}}"
FFMPEG_SHA256="{{ffmpeg_sha256}}"
FFMPEG_URL="https://ffmpeg.org/releases/ffmpeg-${FFMPEG_VERSION}.tar.xz"
MODEL="{{model}}"
MODEL_SHA1="{{model_sha1}}"
MODEL_URL="https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-${MODEL}.bin"
MODEL_S3="s3://{{bucket}}/{{models_prefix}}ggml-${MODEL}.bin"
MODEL_FILE="${MODELS_DIR}/ggml-${MODEL}.bin"
PARTIAL="${MODELS_DIR}/.ggml-${MODEL}.bin.partial"
JOBS=$(nproc)

# On disk, not in /tmp (a tmpfs of half the memory): the builds and a large model need room.
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/whisper-install.XXXXXX")
trap 'rm -rf "${WORK}"; rm -f "${PARTIAL}"' EXIT

# fetch_verified FILE URL SHA256: downloads URL to FILE and stops unless its SHA-256 is SHA256.
fetch_verified() {
  local file="$1" url="$2" expected="$3" actual
  if [ -z "${expected}" ]; then
    echo "whisper-install: no SHA-256 is pinned for ${url}; nothing installed" >&2
    exit 1
  fi
  curl -fsSL --retry 3 -o "${file}" "${url}"
  actual=$(sha256sum "${file}" | awk '{ print $1 }')
  if [ "${actual}" != "${expected}" ]; then
    echo "whisper-install: ${url} has SHA-256 ${actual}, expected ${expected}; nothing installed" >&2
    exit 1
  fi
}

sha1_of() { sha1sum "$1" | awk '{ print $1 }'; }

# Both sources are checked before either is built.
fetch_verified "${WORK}/ffmpeg.tar.xz" "${FFMPEG_URL}" "${FFMPEG_SHA256}"
fetch_verified "${WORK}/whisper.tar.gz" "${WHISPER_URL}" "${WHISPER_SHA256}"
echo "whisper-install: ffmpeg ${FFMPEG_VERSION} and whisper.cpp v${WHISPER_VERSION} match their pinned SHA-256"

echo "whisper-install: building ffmpeg ${FFMPEG_VERSION} (audio decoding to WAV only)"
mkdir "${WORK}/ffmpeg"
tar -xJf "${WORK}/ffmpeg.tar.xz" -C "${WORK}/ffmpeg" --strip-components=1
# Only what --convert needs (`ffmpeg -i <upload> -ar 16000 -ac 1 -c:a pcm_s16le out.wav`) for
# what Telegram sends: OGG/Opus voice messages; MP3, M4A/AAC, FLAC, OGG/Vorbis, WebM and WAV
# audio; the sound of MP4 video notes. Fewer decoders, less to attack with a crafted upload.
(
  cd "${WORK}/ffmpeg"
  ./configure --prefix="${PREFIX}" --disable-everything --disable-doc --disable-debug --disable-network \
    --disable-ffplay --disable-ffprobe --disable-avdevice --disable-x86asm \
    --enable-protocol=file,pipe \
    --enable-demuxer=ogg,matroska,mov,mp3,aac,flac,wav \
    --enable-parser=opus,vorbis,mpegaudio,aac,flac \
    --enable-decoder=opus,vorbis,mp3,mp3float,aac,flac,pcm_s16le,pcm_s24le,pcm_f32le \
    --enable-filter=aresample,aformat,anull \
    --enable-encoder=pcm_s16le --enable-muxer=wav
  make -j "${JOBS}"
)
install -D -m 755 "${WORK}/ffmpeg/ffmpeg" "${PREFIX}/bin/ffmpeg"

echo "whisper-install: building whisper.cpp v${WHISPER_VERSION} (whisper-server)"
mkdir "${WORK}/whisper"
tar -xzf "${WORK}/whisper.tar.gz" -C "${WORK}/whisper" --strip-components=1
# A static whisper-server for this CPU (GGML_NATIVE, whisper.cpp's default).
cmake -S "${WORK}/whisper" -B "${WORK}/whisper/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_BUILD_SERVER=ON
cmake --build "${WORK}/whisper/build" --config Release --target whisper-server -j "${JOBS}"
install -D -m 755 "${WORK}/whisper/build/bin/whisper-server" "${PREFIX}/bin/whisper-server"

echo "whisper-install: model ${MODEL} in ${MODELS_DIR}"
install -d -m 755 "${MODELS_DIR}"
if [ -f "${MODEL_FILE}" ] && [ "$(sha1_of "${MODEL_FILE}")" = "${MODEL_SHA1}" ]; then
  echo "whisper-install: ${MODEL_FILE} is already here"
elif aws s3 cp --only-show-errors "${MODEL_S3}" "${PARTIAL}" && [ "$(sha1_of "${PARTIAL}")" = "${MODEL_SHA1}" ]; then
  mv "${PARTIAL}" "${MODEL_FILE}"
  echo "whisper-install: restored ${MODEL_FILE} from ${MODEL_S3}"
else
  echo "whisper-install: ${MODEL_S3} is missing or not whisper.cpp's file; downloading ${MODEL_URL}"
  curl -fsSL --retry 3 -o "${PARTIAL}" "${MODEL_URL}"
  ACTUAL=$(sha1_of "${PARTIAL}")
  if [ "${ACTUAL}" != "${MODEL_SHA1}" ]; then
    echo "whisper-install: ${MODEL_URL} has SHA-1 ${ACTUAL}, expected ${MODEL_SHA1} (whisper.cpp's models/README.md); not used" >&2
    exit 1
  fi
  # Kept for the next instance; a failure here costs that instance a download, nothing more.
  aws s3 cp --only-show-errors "${PARTIAL}" "${MODEL_S3}" || echo "whisper-install: could not copy the model to ${MODEL_S3}; a new instance downloads it again"
  mv "${PARTIAL}" "${MODEL_FILE}"
fi
chmod 644 "${MODEL_FILE}"
echo "whisper-install: installed ffmpeg ${FFMPEG_VERSION} and whisper-server v${WHISPER_VERSION} in ${PREFIX}/bin, model ${MODEL_FILE}"
