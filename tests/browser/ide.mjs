// GraphiQL in Chromium with every request for another host refused: it loads, fetches the
// schema as soon as a token is typed into its headers (no "re-fetch" click), runs the first
// tab's query, then a subscription over graphql-ws, which gets the meeting the test
// schedules (it waits for a line on stdin after {"step":"ready"} and {"step":"subscribed"}).
//   MEETING_TITLE=… node ide.mjs BASE_URL TOKEN
import { createInterface } from "node:readline";
import { openBrowser, say } from "./browser.mjs";

const stdin = createInterface({ input: process.stdin });
const words = stdin[Symbol.asyncIterator]();

const [base, token] = process.argv.slice(2);
const GUARD = { timeout: 15_000 }; // against a hang

const browser = await openBrowser();
try {
  const page = await browser.context.newPage();
  await page.goto(`${base}/graphql`);
  await page.locator(".graphiql-container").waitFor(GUARD);
  const tabs = await page.locator(".graphiql-tab-button").allTextContents();
  await page.locator('[aria-label="Show Documentation Explorer"]').click();
  // Without a token the schema cannot be read.
  await page.locator(".graphiql-doc-explorer-error").waitFor(GUARD);
  const before = await page.locator(".graphiql-doc-explorer-error").textContent();
  // A token typed into the headers (set as typing would: CodeMirror's change event).
  await page
    .locator('section[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror')
    .evaluate((node, value) => node.CodeMirror.setValue(value), JSON.stringify({ Authorization: `Bearer ${token}` }));
  await page.locator(".graphiql-doc-explorer", { hasText: "Root Types" }).waitFor(GUARD);
  await page.locator(".graphiql-execute-button").click();
  await page.locator(".result-window", { hasText: '"viewer"' }).waitFor(GUARD);
  const result = await page.locator(".result-window .CodeMirror").evaluate((node) => node.CodeMirror.getValue());
  say({ tabs, before, result: JSON.parse(result) });

  // A subscription, in a tab of its own; the token is the one kept from the first tab.
  await page.locator(".graphiql-tab-add").click();
  await page
    .locator(".graphiql-query-editor .CodeMirror")
    .evaluate((node) => node.CodeMirror.setValue("subscription Meetings { meetingUpdates { kind event { title } } }"));
  // GraphiQL takes the operation's name from the editor a moment later (its tab is renamed
  // then); run before that, it sends the first tab's name ("Unknown operation named Viewer").
  await page.locator(".graphiql-tab-active .graphiql-tab-button", { hasText: "Meetings" }).waitFor(GUARD);
  say({ step: "ready" }); // the test counts the server's subscriptions now
  await words.next();
  await page.locator(".graphiql-execute-button").click();
  say({ step: "subscribed" });
  await words.next();
  const title = process.env.MEETING_TITLE;
  await page.locator(".result-window", { hasText: title }).waitFor(GUARD);
  const event = await page.locator(".result-window .CodeMirror").evaluate((node) => node.CodeMirror.getValue());
  say({ event: JSON.parse(event), offsite: browser.offsite, problems: browser.problems });
} finally {
  stdin.close();
  await browser.close();
}
