// graphql-ws (graphql-transport-ws over WebSocket). Node 20 has no global WebSocket: `ws` is
// the implementation. Prints {"connected": true} once the server acknowledged the connection,
// then the first result (a query's answer or a subscription's first event), and ends.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { failure, operationFromArgs, print } from "./operation.mjs";

const { url, token, query, variables } = operationFromArgs();
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  on: { connected: () => print({ connected: true }) },
});
try {
  for await (const result of client.iterate({ query, variables })) {
    print(result);
    break;
  }
} catch (error) {
  // graphql-ws and graphql-sse reject with the response's errors when the server refuses
  print(Array.isArray(error) ? { errors: error } : failure(error));
} finally {
  await client.dispose();
}
