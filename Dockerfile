# The gateway image: every role runs from it with `start --role <role>` (see docker-compose.yml).
# It is built for the distributed shape (Kafka, Redis and a ClickHouse server): the embedded
# ClickHouse package (an optional dependency of ~540 MB) is left out.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund
COPY . .
RUN mkdir -p /app/data && chown node:node /app/data
ENV NODE_ENV=production
EXPOSE 8080
USER node
ENTRYPOINT ["node", "--import", "tsx", "bin/gateway.ts"]
CMD ["start"]
