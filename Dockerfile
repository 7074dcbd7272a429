# syntax=docker/dockerfile:1
# cantons: the compiled server (npm run build) on the production dependencies only, as PID 1.
# docker build -t cantons . && docker run -p 8080:8080 cantons   (compose.yaml runs the split deployment)

ARG NODE_IMAGE=node:20-bookworm-slim

# better-sqlite3 compiles from source where its prebuilt binary cannot be downloaded: keep the toolchain here.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY kernel kernel
COPY db db
COPY modules modules
RUN npm run build

FROM toolchain AS deps
RUN npm ci --omit=dev && npm cache clean --force

FROM ${NODE_IMAGE}
# No GRPC_HOST: gRPC follows HOST only where TLS and a credential are configured (compose.yaml's threads), else it
# stays on loopback, so `docker run` with these defaults starts (kernel/image.test.ts starts the build with them).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is PID 1 (no npm, no shell): SIGTERM from `docker stop` reaches the server, which drains and exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/kernel/cli.js", "start"]
