// Hive Gateway in front of the Club Justice subgraph and a national portal's subgraph.
// The supergraph is composed locally (compose.mjs) before the gateway starts; see
// docs/federation.md. `npx hive-gateway supergraph SUPERGRAPH_FILE --port 4000`.
import { defineConfig } from "@graphql-hive/gateway";

export const gatewayConfig = defineConfig({
  // Club Justice refuses requests without a token: every request to our subgraph carries
  // the caller's own `Authorization`: its header over HTTP; over WebSocket, from its
  // `connection_init` payload (the entity fetches that complete each event need it too).
  // No other subgraph gets it: a portal must not be able to replay our callers' tokens.
  propagateHeaders: {
    fromClientToSubgraphs({ request, context, subgraphName }) {
      if (subgraphName !== "clubjustice") return {};
      const authorization =
        request?.headers.get("authorization") ?? context?.connectionParams?.authorization;
      return authorization ? { authorization } : {};
    },
  },
  transportEntries: {
    // Subscriptions go to the Club Justice subgraph over WebSocket (graphql-transport-ws),
    // authenticated in `connection_init` with the token the client gave the gateway.
    clubjustice: {
      options: {
        subscriptions: {
          kind: "ws",
          location: "/graphql",
          options: {
            // The gateway merges the client's connection_init payload into its headers, so
            // this covers both clients that send the token there and on the upgrade request.
            connectionParams: {
              authorization: "{context.headers.authorization}",
            },
          },
        },
      },
    },
  },
});
