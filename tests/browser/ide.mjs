// GraphiQL in Chromium with every request for another host refused: it loads, fetches the
// schema as soon as a token is typed into its headers (no "re-fetch" click), and runs the
// first tab's query. Prints one JSON line for tests/browser/test_pages.py.
//   node ide.mjs BASE_URL TOKEN
import { openBrowser, say } from "./browser.mjs";

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
  say({ tabs, before, result: JSON.parse(result), offsite: browser.offsite, problems: browser.problems });
} finally {
  await browser.close();
}
