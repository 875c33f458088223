// An example national-portal subgraph (Apollo Server + @apollo/subgraph). It extends the Club
// Justice `Organization` entity with the portal's own fields and owns `LocalProgram`, which
// points back at our organizations. Its data lives in memory: a real portal has its own store.
//
//   PORT=4001 node portal/server.mjs        (GraphQL at http://127.0.0.1:4001/graphql)
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

const typeDefs = parse(readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"));

const programs = []; // { id, name, organizationId }
const caseCounts = new Map(); // organization id → cases

const organization = (id) => ({ __typename: "Organization", id });

const resolvers = {
  Query: {
    localPrograms: () => programs.map(({ organizationId, ...program }) => ({
      ...program,
      organization: organization(organizationId),
    })),
  },
  Mutation: {
    addLocalProgram: (_, { organizationId, name }) => {
      const program = { id: `program-${programs.length + 1}`, name, organizationId };
      programs.push(program);
      return { ...program, organization: organization(organizationId) };
    },
    recordLocalCases: (_, { organizationId, count }) => {
      caseCounts.set(organizationId, (caseCounts.get(organizationId) ?? 0) + count);
      return organization(organizationId);
    },
  },
  Organization: {
    // The gateway sends our organizations' ids; the portal knows them by that key.
    __resolveReference: ({ id }) => organization(id),
    localCaseCount: ({ id }) => caseCounts.get(id) ?? 0,
    localPrograms: ({ id }) => programs
      .filter((program) => program.organizationId === id)
      .map(({ organizationId, ...program }) => ({ ...program, organization: organization(id) })),
  },
};

const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers }) });
await server.start();

const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function readBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text) {
  try {
    return JSON.parse(text || "{}");
  } catch {
    throw new HttpError(400, "request body is not JSON");
  }
}

// A few lines of plain Node HTTP in front of Apollo Server (no web framework to install).
// Every failure of one request is that request's answer, never the process's end.
const http = createServer((request, response) => {
  request.on("error", () => response.destroy());
  handle(request, response).catch((error) => {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    const status = error instanceof HttpError ? error.status : 500;
    const message = error instanceof HttpError ? error.message : "internal server error";
    if (status === 500) console.error(error);
    response
      .writeHead(status, { "content-type": "application/json" })
      .end(JSON.stringify({ errors: [{ message }] }));
  });
});

async function handle(request, response) {
  const url = new URL(request.url, "http://portal");
  if (url.pathname === "/healthz") {
    response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  if (url.pathname !== "/graphql") {
    response.writeHead(404).end();
    return;
  }
  const headers = new Map();
  for (const [name, value] of Object.entries(request.headers)) {
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const body = request.method === "POST" ? parseJson(await readBody(request)) : {};
  const result = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method, headers, search: url.search, body },
    context: async () => ({}),
  });
  for (const [name, value] of result.headers) response.setHeader(name, value);
  response.statusCode = result.status ?? 200;
  if (result.body.kind === "complete") {
    response.end(result.body.string);
  } else {
    for await (const chunk of result.body.asyncIterator) response.write(chunk);
    response.end();
  }
}

const port = Number(process.env.PORT ?? 4001);
const host = process.env.HOST ?? "127.0.0.1";
http.listen(port, host, () => console.log(`portal subgraph at http://${host}:${port}/graphql`));
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    http.close();
    await server.stop();
    process.exit(0);
  });
}
