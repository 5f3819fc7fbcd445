# One image for the router and the example subgraphs; docker-compose.yaml picks the command.
FROM node:20-bookworm-slim
RUN npm install -g pnpm@10.34.9
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY router/package.json router/
COPY subgraphs/shared/package.json subgraphs/shared/
COPY subgraphs/message/package.json subgraphs/message/
COPY subgraphs/user/package.json subgraphs/user/
COPY subgraphs/scrape-job/package.json subgraphs/scrape-job/
RUN pnpm install --frozen-lockfile
COPY . .
# router.yaml reads the development key's JWKS; the image gets a key of its own.
RUN node --import tsx stack/dev-key.ts
ENV HOST=0.0.0.0
EXPOSE 4000
CMD ["node", "--import", "tsx", "router/src/cli.ts", "--config", "router.yaml"]
