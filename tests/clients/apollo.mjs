// Apollo Client with its usual setup: an HttpLink (POST, JSON) and the normalized cache.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { failure, operationFromArgs, print } from "./operation.mjs";

const { url, token, query, variables } = operationFromArgs();
const client = new ApolloClient({
  link: new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` } }),
  cache: new InMemoryCache(),
});
try {
  const { data } = await client.query({ query: gql(query), variables });
  print({ data });
} catch (error) {
  print(failure(error));
}
