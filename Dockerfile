# slotgate's container image.
#   docker build -t slotgate .        podman build -t slotgate .        (this machine: scripts/image.sh)
#   docker run --rm slotgate --help   docker run --network host slotgate redis-0.redis:6379
# Three stages: `deps` installs the production dependencies (npm ci --omit=dev), `build` compiles the
# TypeScript with every dependency, and the runtime stage gets only what runs: the production
# node_modules, dist/src, config/ and package.json (slotgate reads its version there).

# Debian bookworm-slim on purpose (scripts/image.sh substitutes an offline one with the same name).
ARG BASE_IMAGE=node:20-bookworm-slim

# Production dependencies only, from the lock file (cached until it changes).
FROM ${BASE_IMAGE} AS deps
# Only for registries reached through a TLS-intercepting proxy (as on the CI machines): the path of
# a CA bundle mounted into the build, e.g. podman build -v /etc/ssl/certs/ca-certificates.crt:/tmp/ci-ca.crt:ro
# --build-arg NODE_EXTRA_CA_CERTS=/tmp/ci-ca.crt. Declared in the build stages only, so neither the
# variable nor the file reaches the final image (whose stage has no RUN, so a mount leaves no trace).
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Every dependency (the production ones come from the npm cache the deps stage left), then tsc.
FROM deps AS build
ARG NODE_EXTRA_CA_CERTS
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build \
 && mkdir -p /out/etc/slotgate \
 && printf '%s\n' \
      '# slotgate configuration (the image default: empty). Mount your own over /etc/slotgate,' \
      '# e.g. a ConfigMap; keys as in /app/config/slotgate.example.yaml. SLOTGATE_* variables' \
      '# and flags override it; `--config /etc/slotgate/slotgate.yaml --check-config` checks it.' \
      > /out/etc/slotgate/slotgate.yaml

FROM ${BASE_IMAGE} AS runtime
# No RUN in this stage: it only copies what runs. The files stay root's (the process can read its
# code and config, not change them); the process runs as a numeric non-root user (no passwd entry
# needed: Kubernetes' runAsNonRoot/runAsUser 10001 check the number).
# /etc/slotgate/slotgate.yaml is the default --config, empty (comments only), so that the image
# runs from SLOTGATE_* variables alone; mount a ConfigMap over /etc/slotgate to configure it.
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out/etc/slotgate /etc/slotgate
COPY package.json package-lock.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY config ./config
USER 10001:10001
# 7777: RESP (port); 9121: admin HTTP, /metrics /livez /readyz (admin-port).
EXPOSE 7777 9121
# Node runs as PID 1 without an init: slotgate installs its own SIGTERM/SIGINT (graceful drain,
# exit 0) and SIGHUP (reload) handlers, and it starts no child processes, so there are no zombies
# to reap; tini would add nothing. No HEALTHCHECK: Kubernetes ignores it (it uses the probes on
# /readyz and /livez), podman's default OCI format drops it, and the admin port is configurable.
STOPSIGNAL SIGTERM
# Arguments go to slotgate: `docker run IMAGE --help`, `docker run IMAGE [flags] SEED...`
# (which replace the default --config), or Kubernetes `args:`.
ENTRYPOINT ["node", "/app/dist/src/main.js"]
CMD ["--config", "/etc/slotgate/slotgate.yaml"]

# Last, so that a new revision re-runs nothing above.
ARG BASE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="slotgate" \
      org.opencontainers.image.description="A cluster-aware Redis proxy: one RESP endpoint in front of a Redis Cluster" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
