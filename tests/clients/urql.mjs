// urql (@urql/core), as its documentation sets it up: the default exchanges, so queries go
// as GET when they fit in a URL, with urql's own Accept header.
import { Client, cacheExchange, fetchExchange } from "@urql/core";
import { failure, operationFromArgs, print } from "./operation.mjs";

const { url, token, query, variables } = operationFromArgs();
const client = new Client({
  url,
  exchanges: [cacheExchange, fetchExchange],
  fetchOptions: { headers: { authorization: `Bearer ${token}` } },
});
const result = await client.query(query, variables).toPromise();
if (result.error?.networkError) {
  print(failure(result.error.networkError));
} else {
  const errors = result.error?.graphQLErrors.map(({ message, extensions }) => ({ message, extensions }));
  print({ data: result.data, ...(errors ? { errors } : {}) });
}
