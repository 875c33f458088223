// The screenshots in docs/ (scripts/screenshots starts the demo and runs this):
//   node screenshots.mjs BASE_URL TOKEN OUT_DIR
// docs/club-page.png: the club page, its live feed showing a member who just joined (the
// script accepts the demo guest's invitation when this prints {"step":"live"} and writes a
// line back); docs/graphiql.png: GraphiQL with the Explorer open, the Members tab run.
import { createInterface } from "node:readline";
import { join } from "node:path";
import { openBrowser, say } from "./browser.mjs";

const [base, token, out] = process.argv.slice(2);
const stdin = createInterface({ input: process.stdin });
const words = stdin[Symbol.asyncIterator]();
const GUARD = { timeout: 15_000 };

const browser = await openBrowser({ viewport: { width: 1280, height: 1000 } });
try {
  await browser.context.addInitScript((t) => {
    if (location.origin === "null") return; // about:blank has no storage
    if (t && !localStorage.getItem("clubjustice.token")) localStorage.setItem("clubjustice.token", t);
  }, token);
  const page = await browser.context.newPage();
  await page.emulateMedia({ reducedMotion: "reduce" });
  await page.goto(`${base}/`);
  await page.locator('#live-state[data-state="live"]').waitFor(GUARD);
  say({ step: "live" });
  await words.next();
  await page.locator("#feed li").first().waitFor(GUARD);
  await page.screenshot({ path: join(out, "club-page.png") });

  const ide = await browser.context.newPage();
  await ide.goto(`${base}/graphql`);
  await ide.locator(".graphiql-container").waitFor(GUARD);
  await ide.locator(".graphiql-tab-button", { hasText: "Members" }).click();
  await ide.locator('[aria-label="Show GraphiQL Explorer"]').click();
  await ide.locator(".graphiql-explorer-root, .docExplorerWrap", { hasText: "organizations" }).first().waitFor(GUARD);
  await ide.locator(".graphiql-execute-button").click();
  await ide.locator(".result-window", { hasText: "totalCount" }).waitFor(GUARD);
  await ide.screenshot({ path: join(out, "graphiql.png") });
  say({ offsite: browser.offsite, problems: browser.problems });
} finally {
  stdin.close();
  await browser.close();
}
