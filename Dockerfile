# Build stage: compile the release binary.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# Cargo checks that every target Cargo.toml declares exists, even the ones it does
# not build: the [[bench]] entries need their files. (tests/it/docker.rs checks
# that these COPY lines give cargo what it needs.)
COPY benches ./benches
COPY src ./src
# The translation files, compiled into the binary (src/i18n.rs).
COPY locales ./locales
RUN cargo build --release --locked

# Runtime stage: a small image with CA certificates, running as a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin embassy \
 && mkdir -p /data /etc/embassy-bot \
 && chown embassy /data
COPY --from=build /src/target/release/embassy-bot /usr/local/bin/embassy-bot
COPY config.example.toml /etc/embassy-bot/config.example.toml
# Seen releases, subscribers and pending pushes live here: keep it on a volume.
ENV EMBASSY_BOT_DATA_DIR=/data
# glibc gives each thread that allocates its own arena (up to 8 per core);
# two are plenty for a bot with two tokio workers and cost ~2.5 MB less
# peak memory at 100,000 subscribers (BENCHMARKS.md, "Fan-out").
ENV MALLOC_ARENA_MAX=2
VOLUME ["/data"]
# The HTTP server (health, metrics, feeds, webhook) is on in the image, so the health
# check works whatever config file is mounted; publish the port to reach it from outside.
ENV EMBASSY_BOT_HTTP_LISTEN=0.0.0.0:9184
EXPOSE 9184
USER embassy
WORKDIR /data
# The bot asks its own /healthz (no curl in the image): unhealthy when the store cannot
# be written, Telegram has not answered for http.telegram_silence_secs, or a source has
# failed for longer than its alert_after_secs. A custom config must be named by
# EMBASSY_BOT_CONFIG (not --config) so that this command reads it too.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/embassy-bot", "healthcheck"]
# docker stop sends SIGTERM: the bot finishes in-flight sends, flushes and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/embassy-bot"]
CMD ["run"]
