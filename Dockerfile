# syntax=docker/dockerfile:1
# Sluice in a container: multi-stage on the current Node.js LTS image; the build stage compiles
# the WebAssembly core and the TypeScript, the runtime stage holds only what runs, as non-root.
#   docker build -t sluice .
#   docker run --rm -e SLUICE_CONFIG=/app/config/local.conf sluice      (local mode on the samples)
# Production (config/production.conf, the default): a read-only root filesystem, as the non-root
# user the image runs as; the brokers and the two enrichment services are required.
#   docker run --rm --read-only --tmpfs /tmp -e KAFKA_BROKERS=… -e CONTENT_API_URL=… \
#     -e RECOMMENDER_API_URL=… sluice
# Nothing is written outside /app/out and /tmp: logs go to stderr (log.destination), and /app/out
# is written only by file sinks (local mode, mount a volume there); production.conf has none.
# Secrets come from the environment (or an orchestrator's secret mounted as a file under a tmpfs or
# volume for tls.key-file), never from a file in the image.
ARG NODE_IMAGE=node:lts-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json asconfig.json tsconfig.json tsconfig.build.json ./
COPY assembly assembly
COPY src src
COPY schemas schemas
# npm ci runs `prepare`, which builds build/*.wasm and dist/
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    SLUICE_CONFIG=/app/config/production.conf \
    SLUICE_LOG_DESTINATION=stderr
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/build build
COPY config config
COPY samples samples
RUN mkdir -p /app/out && chown node:node /app/out
USER node
VOLUME ["/app/out"]
# the operations endpoint (observe.http in config/production.conf): /metrics, /healthz, /readyz
EXPOSE 9464
# liveness, with Node's fetch (the slim image has no curl); readiness (/readyz) is for the orchestrator's probe
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SLUICE_HTTP_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec form: node is PID 1 and receives SIGTERM itself (Sluice drains and exits 0)
ENTRYPOINT ["node", "--max-semi-space-size=32", "dist/src/cli.js", "run"]
