echo "--- voice transcription: whisper.cpp v{{whisper_version}}, model {{model}}, on 127.0.0.1:{{port}} behind nginx"
# After the models: chat works while ffmpeg and whisper.cpp build. Until the server is up,
# nginx answers the transcription route with 502.
# Build tools only: both are built from pinned sources that whisper-install verifies first.
dnf install -y -q gcc gcc-c++ make cmake xz tar gzip || echo "the build tools did not install; whisper-install will fail"
cat > /usr/local/bin/whisper-install <<'WHISPERINSTALL'
{{install_script}}
WHISPERINSTALL
chmod 755 /usr/local/bin/whisper-install
id whisper >/dev/null 2>&1 || useradd -r -s /sbin/nologin -U -M -d /var/lib/whisper whisper
cat > /etc/systemd/system/whisper.service <<'UNIT'
{{unit}}
UNIT
# Not fatal: the bot chats without voice. whisper-install says what failed; it can be run again.
if /usr/local/bin/whisper-install; then
  systemctl daemon-reload
  systemctl enable --now whisper
else
  echo "whisper-install failed: voice transcription stays off (journal above; rerun /usr/local/bin/whisper-install, then systemctl enable --now whisper)"
fi
