# OwnTracks Enroll: Node 24 LTS, slim Debian. Three stages so the image carries no compiler.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY server ./server
RUN npm run build

# Production dependencies only; better-sqlite3 may need a compiler when no prebuilt binary fits.
# Then it is compiled against Node 24.18.1's headers: a build against 24.19's or later aborts the
# process at a random garbage collection (nodejs/node#65446; scripts/node24.sh says more).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts/node24.sh ./scripts/
RUN npm_config_nodedir="$(scripts/node24.sh --headers)" npm ci --omit=dev && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
# uid 1883 is the mosquitto user of eclipse-mosquitto: the broker can read the portal's files,
# and the portal may signal the broker (SIGHUP re-reads the CRL) through a shared PID namespace.
# A new Compose volume mounted at a folder of the image takes that folder's owner and mode, one
# mounted elsewhere is root's: /data, /secrets (the CA key's passphrase, 0700) and /broker-certs
# (broker-cert writes the broker's key there) are made here for the services that run as 1883.
RUN groupadd --gid 1883 enroll && useradd --uid 1883 --gid enroll --no-create-home enroll \
  && mkdir -p /data /secrets /broker-certs && chown enroll:enroll /data /secrets /broker-certs \
  && chmod 0700 /secrets
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY views ./views
COPY public ./public
COPY migrations ./migrations
USER enroll
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --max-semi-space-size=2: a small young generation keeps the collector's pauses short (README, "Performance").
CMD ["node", "--enable-source-maps", "--max-semi-space-size=2", "dist/server/main.js"]
