// graphql-request's GraphQLClient, defaults only (POST, JSON); rawRequest keeps the whole
// response (data and errors).
import { GraphQLClient } from "graphql-request";
import { failure, operationFromArgs, print } from "./operation.mjs";

const { url, token, query, variables } = operationFromArgs();
const client = new GraphQLClient(url, { headers: { authorization: `Bearer ${token}` } });
try {
  const { data, errors } = await client.rawRequest(query, variables);
  print({ data, ...(errors ? { errors } : {}) });
} catch (error) {
  print(failure(error));
}
