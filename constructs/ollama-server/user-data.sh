#!/bin/bash
# First-boot setup of the Ollama instance (Amazon Linux 2023). Rendered by renderUserData
# (constructs/ollama-server/render.ts) with the stack's values; the model list comes from the
# stack configuration; the API key is read from SSM Parameter Store by ollama-proxy-config
# (proxy-config.sh) each time nginx starts and every few minutes after, so it is not in this
# script. With voice on, it ends by building whisper.cpp's transcription server
# (transcription-setup.sh, install-whisper.sh, whisper.service). EC2 gets it gzipped.
set -euo pipefail
exec > >(tee -a /var/log/ollama-setup.log) 2>&1

BUCKET="{{bucket}}"
MODELS_PREFIX="{{models_prefix}}"
INTERNAL_PORT="{{internal_port}}"
MODELS=({{models}})
MODELS_DIR="/usr/share/ollama/.ollama/models"
export OLLAMA_HOST="127.0.0.1:${INTERNAL_PORT}"

echo "--- packages"
# zstd and tar: Ollama's release is a .tar.zst archive.
dnf install -y -q nginx zstd tar

echo "--- ollama (a pinned release, verified)"
cat > /usr/local/bin/ollama-install <<'INSTALL'
{{install_script}}
INSTALL
chmod 755 /usr/local/bin/ollama-install
/usr/local/bin/ollama-install
id ollama >/dev/null 2>&1 || useradd -r -s /bin/false -U -m -d /usr/share/ollama ollama
cat > /etc/systemd/system/ollama.service <<'UNIT'
[Unit]
Description=Ollama Service
After=network-online.target

[Service]
ExecStart=/usr/bin/ollama serve
User=ollama
Group=ollama
Restart=always
RestartSec=3

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p /etc/systemd/system/ollama.service.d "${MODELS_DIR}"
cat > /etc/systemd/system/ollama.service.d/override.conf <<UNIT
[Service]
Environment="OLLAMA_HOST=127.0.0.1:${INTERNAL_PORT}"
Environment="OLLAMA_MODELS=${MODELS_DIR}"
# Sized from the stack's ollamaNumParallel and queueMaxConcurrency: the queue's event source
# mapping never runs more requests than Ollama holds, so none is refused with a 503.
Environment="OLLAMA_NUM_PARALLEL={{num_parallel}}"
Environment="OLLAMA_MAX_QUEUE={{max_queue}}"
UNIT

echo "--- restore models from s3://${BUCKET}/${MODELS_PREFIX}"
# whisper.cpp's model (under {{whisper_models_exclude}}) is not Ollama's; the voice setup restores it itself.
aws s3 sync --only-show-errors --exclude "{{whisper_models_exclude}}" "s3://${BUCKET}/${MODELS_PREFIX}" "${MODELS_DIR}/" || echo "no models to restore"
chown -R ollama:ollama /usr/share/ollama

systemctl daemon-reload
systemctl enable ollama
systemctl restart ollama
for attempt in $(seq 1 60); do
  if curl -fsS "http://${OLLAMA_HOST}/api/version" >/dev/null; then break; fi
  echo "waiting for ollama (${attempt})"
  sleep 2
done

# The proxy goes up before the models are pulled: the API answers (and checks keys) at once.
echo "--- nginx API-key proxy on {{proxy_port}} (key from SSM parameter {{api_key_parameter}})"
cat > /etc/nginx/ollama.conf.template <<'NGINX'
{{nginx_config}}
NGINX
cat > /usr/local/bin/ollama-proxy-config <<'PROXYCONFIG'
{{proxy_config_script}}
PROXYCONFIG
chmod 755 /usr/local/bin/ollama-proxy-config
mkdir -p /etc/systemd/system/nginx.service.d
cat > /etc/systemd/system/nginx.service.d/ollama-api-key.conf <<'UNIT'
[Service]
# The configuration is written, with the key from SSM, before nginx checks and starts it; a
# failure (SSM not reachable yet) is retried.
ExecStartPre=
ExecStartPre=/usr/bin/rm -f /run/nginx.pid
ExecStartPre=/usr/local/bin/ollama-proxy-config
ExecStartPre=/usr/sbin/nginx -t
Restart=on-failure
RestartSec=10
UNIT
# A rotated key (a new value of the parameter) reaches nginx within {{refresh_minutes}} minutes.
cat > /etc/systemd/system/ollama-api-key-refresh.service <<'UNIT'
[Unit]
Description=Reload nginx when the Ollama API key in SSM has changed
After=nginx.service

[Service]
Type=oneshot
ExecStart=/usr/local/bin/ollama-proxy-config --reload
UNIT
cat > /etc/systemd/system/ollama-api-key-refresh.timer <<'UNIT'
[Unit]
Description=Check the Ollama API key in SSM every {{refresh_minutes}} minutes

[Timer]
OnBootSec={{refresh_minutes}}min
OnUnitActiveSec={{refresh_minutes}}min

[Install]
WantedBy=timers.target
UNIT
systemctl daemon-reload
systemctl enable nginx
systemctl enable --now ollama-api-key-refresh.timer
# Not fatal: without the key yet (IAM still propagating, SSM unreachable) systemd retries nginx
# every 10 s, and the models must be set up meanwhile.
systemctl restart nginx || echo "nginx is not up yet; systemd retries it (journalctl -u nginx)"

echo "--- model sync to S3 on shutdown"
cat > /usr/local/bin/ollama-models-sync <<SYNC
#!/bin/bash
set -euo pipefail
# --delete removes what Ollama no longer has, never whisper.cpp's model ({{whisper_models_exclude}}).
aws s3 sync --only-show-errors --delete --exclude "{{whisper_models_exclude}}" "${MODELS_DIR}/" "s3://${BUCKET}/${MODELS_PREFIX}"
SYNC
chmod 755 /usr/local/bin/ollama-models-sync
cat > /etc/systemd/system/ollama-models-sync.service <<'UNIT'
[Unit]
Description=Sync Ollama models to S3 before shutdown
Wants=network-online.target
After=network-online.target ollama.service

[Service]
Type=oneshot
RemainAfterExit=true
ExecStart=/bin/true
ExecStop=/usr/local/bin/ollama-models-sync
TimeoutStopSec=900

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now ollama-models-sync.service

echo "--- pull ${#MODELS[@]} model(s)"
for model in "${MODELS[@]}"; do
  # One bad model name must not leave the others unpulled.
  ollama pull "${model}" || echo "pull of ${model} failed; see: ollama pull ${model}"
done

# A first copy to S3 now; a failure here must not stop the setup (the unit syncs again at shutdown).
/usr/local/bin/ollama-models-sync || echo "initial model sync to S3 failed; it runs again at shutdown"

{{transcription_setup}}

echo "--- ready"
