#!/bin/sh
# Composes the supergraph from the subgraphs' SDL (failing on any composition error), then
# serves it with Hive Gateway. The same command runs in docker-compose.yml and in
# tests/e2e/test_federation.py.
#   CLUBJUSTICE_URL, PORTAL_URL  the subgraphs' GraphQL endpoints
#   SUPERGRAPH                   where to write the supergraph (default: ./supergraph.graphql)
#   HOST, PORT                   where the gateway listens (default: 0.0.0.0:4000)
set -eu
cd "$(dirname "$0")"
supergraph="${SUPERGRAPH:-supergraph.graphql}"
node compose.mjs --out "$supergraph" \
  "clubjustice=${CLUBJUSTICE_SCHEMA:-../schema.graphql}@${CLUBJUSTICE_URL:?set CLUBJUSTICE_URL}" \
  "portal=portal/schema.graphql@${PORTAL_URL:?set PORTAL_URL}"
exec node_modules/.bin/hive-gateway supergraph "$supergraph"
