# syntax=docker/dockerfile:1
#
# One image per app, built from the repository root:
#
#   docker build --target video-processor     -t nself-tv/video-processor .
#   docker build --target thumbnail-generator -t nself-tv/thumbnail-generator .
#   docker build --target stream-gateway      -t nself-tv/stream-gateway .
#
# NODE_IMAGE is any Debian bookworm image with Node (and npm) on PATH; the default is the official
# one. Where no registry is reachable, `pnpm images:base` makes an equivalent image locally and
# `pnpm test:images` builds with it (see deploy/README.md).
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

# ---- build: install the workspace, build the apps, and `pnpm deploy` each one with its production
# dependencies only (workspace packages as their published files, dist/).
FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION=12.21.0
ENV CI=true TURBO_TELEMETRY_DISABLED=1 npm_config_update_notifier=false
WORKDIR /src
# The lockfile alone fills the store, so this layer is reused until a dependency changes. The only
# step that downloads; behind a TLS-inspecting proxy pass its CA bundle as a build secret:
#   docker build --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt …
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=secret,id=ca-certificates,target=/run/secrets/ca-certificates.crt \
    if [ -s /run/secrets/ca-certificates.crt ]; then \
      export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates.crt SSL_CERT_FILE=/run/secrets/ca-certificates.crt \
             npm_config_cafile=/run/secrets/ca-certificates.crt; \
    fi \
 && npm install --global --no-audit --no-fund "pnpm@${PNPM_VERSION}" \
 && pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline \
 && pnpm exec turbo run build --output-logs=errors-only \
      --filter=@nself-tv/video-processor... \
      --filter=@nself-tv/thumbnail-generator... \
      --filter=@nself-tv/stream-gateway... \
 && for app in video-processor thumbnail-generator stream-gateway; do \
      pnpm --filter "@nself-tv/${app}" deploy --prod --offline "/out/${app}" || exit 1; \
      rm -f "/out/${app}/pnpm-lock.yaml" "/out/${app}/pnpm-workspace.yaml"; \
    done

# ---- ffmpeg: Debian's ffmpeg and ffprobe with the shared libraries they load and the base image
# lacks, and those libraries' licences. Debian's package would also bring the GPU stack (Mesa, LLVM:
# about 400 MB) that ffmpeg only loads for hardware paths these workers never take.
FROM ${NODE_IMAGE} AS ffmpeg
RUN dpkg-query --show --showformat='${Package}\n' | sort > /base-packages \
 && apt-get update \
 && apt-get install --yes --no-install-recommends ffmpeg \
 && mkdir -p /out/root/usr/local/bin /out/licenses \
 && cp /usr/bin/ffmpeg /usr/bin/ffprobe /out/root/usr/local/bin/ \
 && ldd /usr/bin/ffmpeg /usr/bin/ffprobe | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u > /libs \
 && while read -r lib; do \
      pkg=$(dpkg-query --search "$(readlink -f "$lib")" 2>/dev/null | head -n1 | cut -d: -f1); \
      if [ -n "$pkg" ] && grep -qx "$pkg" /base-packages; then continue; fi; \
      dir=$(readlink -f "$(dirname "$lib")"); \
      mkdir -p "/out/root$dir" && cp -L "$lib" "/out/root$dir/$(basename "$lib")"; \
      if [ -n "$pkg" ] && [ -f "/usr/share/doc/$pkg/copyright" ]; then cp "/usr/share/doc/$pkg/copyright" "/out/licenses/$pkg"; fi; \
    done < /libs \
 && cp /usr/share/doc/ffmpeg/copyright /out/licenses/ffmpeg

# ---- runtime: Node, tini as PID 1 (signals reach Node, ffmpeg children are reaped) and a user
# without privileges. Apps listen on PORT and answer GET /health; media lives under /media
# (STORAGE=fs, a volume) or in an S3-compatible store (STORAGE=s3).
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install --yes --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --system --gid 10001 nself \
 && useradd --system --uid 10001 --gid nself --home-dir /app --no-create-home --shell /usr/sbin/nologin nself \
 && install --directory --owner=nself --group=nself /media
ENV NODE_ENV=production MEDIA_ROOT=/media
WORKDIR /app
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
# Asks the app itself: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
LABEL org.opencontainers.image.vendor="nself-tv" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/nself-org/nself-tv-media"

# The two workers run ffmpeg and ffprobe.
FROM runtime AS media-runtime
# The libraries go where Debian puts them: some are asked for by a name other than their soname,
# which the loader only finds in its own folders.
COPY --from=ffmpeg /out/root/ /
COPY --from=ffmpeg /out/licenses/ /usr/share/doc/ffmpeg-libraries/
RUN ldconfig \
 && ffmpeg -hide_banner -version > /dev/null \
 && ffprobe -hide_banner -version > /dev/null

FROM media-runtime AS video-processor
# OCR of picture subtitles (PGS, VobSub, DVB): tesseract with the languages most libraries have; a
# track in another language is skipped with OCR_NO_LANGUAGE until its tesseract-ocr-<lang> is added.
ARG OCR_LANGUAGES="eng fra deu spa ita por nld"
RUN apt-get update \
 && apt-get install --yes --no-install-recommends tesseract-ocr $(for l in ${OCR_LANGUAGES}; do printf 'tesseract-ocr-%s ' "$l"; done) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && tesseract --list-langs > /dev/null
COPY --from=build /out/video-processor /app
ENV PORT=5005
EXPOSE 5005
USER nself
LABEL org.opencontainers.image.title="nself-tv video-processor" \
      org.opencontainers.image.description="HLS transcode, trickplay and subtitle workers on ffmpeg; ingest HTTP API"

FROM media-runtime AS thumbnail-generator
COPY --from=build /out/thumbnail-generator /app
ENV PORT=5006
EXPOSE 5006
USER nself
LABEL org.opencontainers.image.title="nself-tv thumbnail-generator" \
      org.opencontainers.image.description="Poster, sprite-sheet and image optimisation workers on sharp and ffmpeg"

FROM runtime AS stream-gateway
COPY --from=build /out/stream-gateway /app
ENV PORT=5003
EXPOSE 5003
USER nself
LABEL org.opencontainers.image.title="nself-tv stream-gateway" \
      org.opencontainers.image.description="Playback sessions under concurrent-stream limits, and session-gated HLS"
