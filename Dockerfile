# The gateway on Node 22 LTS. Configure with the environment (see README): DATABASE_URL and
# REDIS_URL for a server deployment; without them it runs on its embedded store in /data.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/npm-stubs ./scripts/npm-stubs
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data MLLP_HOST=0.0.0.0 MLLP_PORT=2575
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/scripts/npm-stubs ./scripts/npm-stubs
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY profiles ./profiles
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
# The embedded store (when DATABASE_URL is unset) lives here; a volume so it outlives the container.
VOLUME /data
USER node
EXPOSE 8080 2575
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/index.js"]
