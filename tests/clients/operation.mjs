// What every client program here shares: its command line (the endpoint, the operation, its
// variables; the bearer token in CLUBJUSTICE_TOKEN) and its output (one JSON object a line).

export function operationFromArgs() {
  const [url, query, variables] = process.argv.slice(2);
  const token = process.env.CLUBJUSTICE_TOKEN;
  if (!url || !query || !token) {
    console.error("usage: CLUBJUSTICE_TOKEN=<token> node <program>.mjs URL QUERY [VARIABLES_JSON]");
    process.exit(2);
  }
  return { url, token, query, variables: variables ? JSON.parse(variables) : undefined };
}

export function print(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

// A failure the client reported rather than a GraphQL response: its message, with the
// messages of its causes (fetch's "fetch failed" says little on its own).
export function failure(error) {
  const messages = [];
  for (let cause = error; cause; cause = cause.cause) {
    messages.push(cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause));
  }
  return { failure: messages.join(" <- ") };
}
