// The GraphQL-over-HTTP specification's reference audits (graphql-http's serverAudits)
// against a live server, each request with the bearer token. Prints one line per audit:
// {"id", "name", "status", "reason"?}.
import { serverAudits } from "graphql-http";
import { print } from "./operation.mjs";

const [url] = process.argv.slice(2);
const token = process.env.CLUBJUSTICE_TOKEN;
if (!url || !token) {
  console.error("usage: CLUBJUSTICE_TOKEN=<token> node audit.mjs URL");
  process.exit(2);
}

function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

for (const audit of serverAudits({ url, fetchFn: fetchWithToken })) {
  const result = await audit.fn();
  const line = { id: audit.id, name: audit.name, status: result.status };
  if (result.status !== "ok") line.reason = result.reason;
  print(line);
}
