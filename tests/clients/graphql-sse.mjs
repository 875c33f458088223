// graphql-sse in its default "distinct connections" mode (one POSTed event stream per
// operation). Prints {"connected": true} once the stream is open, then the first result (a
// query's answer or a subscription's first event), and ends.
import { createClient } from "graphql-sse";
import { failure, operationFromArgs, print } from "./operation.mjs";

const { url, token, query, variables } = operationFromArgs();
const client = createClient({ url, headers: { authorization: `Bearer ${token}` } });
try {
  const results = client.iterate({ query, variables }, { connected: () => print({ connected: true }) });
  for await (const result of results) {
    print(result);
    break;
  }
} catch (error) {
  // graphql-ws and graphql-sse reject with the response's errors when the server refuses
  print(Array.isArray(error) ? { errors: error } : failure(error));
} finally {
  client.dispose();
}
