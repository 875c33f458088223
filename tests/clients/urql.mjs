// urql (@urql/core), as its documentation sets it up: the default exchanges, so queries go
// as GET when they fit in a URL and mutations as POST, with urql's own Accept header (which
// lists text/event-stream and multipart/mixed after the JSON types).
import { Client, cacheExchange, fetchExchange } from "@urql/core";
import { getOperationAST, parse } from "graphql";
import { failure, operationFromArgs, print } from "./operation.mjs";

const { url, token, query, variables } = operationFromArgs();
const client = new Client({
  url,
  exchanges: [cacheExchange, fetchExchange],
  fetchOptions: { headers: { authorization: `Bearer ${token}` } },
});
const operation = getOperationAST(parse(query))?.operation;
const run = operation === "mutation" ? client.mutation : client.query;
const result = await run.call(client, query, variables).toPromise();
if (result.error?.networkError) {
  print(failure(result.error.networkError));
} else {
  const errors = result.error?.graphQLErrors.map(({ message, extensions }) => ({ message, extensions }));
  print({ data: result.data, ...(errors ? { errors } : {}) });
}
