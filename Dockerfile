# The gateway image: every role runs from it with `start --role <role>` (see docker-compose.yml).
# It is built for the distributed shape (Kafka, Redis and a ClickHouse server): the embedded
# ClickHouse package (an optional dependency of ~540 MB) is left out, and so is the project's own
# Node package (also optional): the image's Node is the same release line.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# The ai-gateway command is a package of its own in bin/ (see bin/package.json), linked at install.
COPY bin/package.json bin/
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund
COPY . .
RUN mkdir -p /app/data && chown node:node /app/data
# Outside a container the gateway listens on 127.0.0.1 only; inside one, that would be unreachable.
ENV NODE_ENV=production HOST=0.0.0.0
EXPOSE 8080
USER node
ENTRYPOINT ["node", "--import", "tsx", "bin/gateway.ts"]
CMD ["start"]
