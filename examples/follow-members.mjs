// Follows new members of the club and resumes where it left off (Node.js 20 or newer).
//   npm ci --prefix examples
//   CLUBJUSTICE_TOKEN=cj_… node examples/follow-members.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { createClient } from "graphql-ws";
import WebSocket from "ws"; // Node 20 has no WebSocket of its own (Node 22 has)

const url = process.env.CLUBJUSTICE_WS_URL ?? "ws://127.0.0.1:8000/graphql";
const token = process.env.CLUBJUSTICE_TOKEN; // any token: scripts/demo prints some
const cursorFile = process.env.CURSOR_FILE ?? "member-joined.cursor"; // where we are
if (!token) {
  console.error("Set CLUBJUSTICE_TOKEN to an API token (scripts/demo prints some).");
  process.exit(2);
}

// No automatic retries (they would resend a stale `after`): we resubscribe ourselves.
const client = createClient({
  url,
  webSocketImpl: WebSocket, // in a browser, leave this out
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
});

let lastCursor = null; // null the first time: start from now
try {
  lastCursor = readFileSync(cursorFile, "utf8").trim() || null;
} catch {
  // no cursor saved yet
}

function follow() {
  let resubscribed = false;
  const again = () => {
    if (!resubscribed) { resubscribed = true; setTimeout(follow, 1000); }
  };
  client.subscribe(
    {
      query: `subscription ($after: String) {
        memberJoined(after: $after) { cursor organization { name country { name } } sponsor { name } }
      }`,
      variables: { after: lastCursor },
    },
    {
      next: ({ data, errors }) => {
        if (errors) { // e.g. SUBSCRIPTION_OVERFLOW, with the cursor to resume after
          lastCursor = errors[0]?.extensions?.resumeAfter ?? lastCursor;
          console.error(JSON.stringify(errors));
          return;
        }
        const { organization, sponsor, cursor } = data.memberJoined;
        lastCursor = cursor;
        writeFileSync(cursorFile, cursor); // in a browser: localStorage.setItem(…)
        console.log(`${organization.name} (${organization.country.name}) joined, sponsored by ${sponsor?.name}`);
      },
      error: (error) => {
        if (error?.code === 4403) { // a bad or revoked token: retrying will not help
          console.error("The server refused the token (4403).");
          process.exit(1);
        }
        console.error("Connection lost; resuming in a second.", error?.code ?? error);
        again(); // the network, or the server went away: resume from lastCursor
      },
      complete: again, // the server ended it: resume from lastCursor
    },
  );
}
follow();
