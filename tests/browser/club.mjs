// The club page in Chromium, step by step with tests/browser/test_pages.py: it prints a JSON
// line at each step and waits for the test's word on stdin (the test commits changes through
// the API in between).
//   node club.mjs BASE_URL TOKEN   (TOKEN "" for an anonymous visitor)
// The page's WebSocket goes through Playwright's routeWebSocket, so that the program can cut
// it (close both sides) and keep it cut (close each new one at once) until it restores it.
import { createInterface } from "node:readline";
import { openBrowser, say } from "./browser.mjs";

const [base, token] = process.argv.slice(2);
const stdin = createInterface({ input: process.stdin });
const words = stdin[Symbol.asyncIterator]();
async function waitForWord(expected) {
  const { value, done } = await words.next();
  if (done || value.trim() !== expected) throw new Error(`expected "${expected}" on stdin, got ${value}`);
}
const GUARD = { timeout: 10_000 }; // against a hang; the steps take well under a second

const browser = await openBrowser();
try {
  let cut = false;
  let connections = 0;
  const open = [];
  await browser.context.routeWebSocket(/\/graphql$/, (ws) => {
    if (cut) {
      ws.close({ code: 1001, reason: "cut by the test" });
      return;
    }
    connections += 1;
    open.push({ page: ws, server: ws.connectToServer() });
  });
  const page = await browser.context.newPage();
  page.on("console", (message) => process.stderr.write(`console ${message.type()}: ${message.text()}\n`));
  await page.goto(`${base}/`);

  if (token) {
    // No token yet: the page asks for one (anonymous reads are off on this server).
    await page.locator("#access").waitFor({ state: "visible", ...GUARD });
    say({ asked: await page.locator("#access-reason").textContent() });
    await page.fill("#token", token);
    await page.press("#token", "Enter");
  }
  await page.locator("#club").waitFor({ state: "visible", ...GUARD });
  await page.locator('#live-state[data-state="live"]').waitFor(GUARD);
  const texts = (selector) => page.locator(selector).allTextContents();
  say({
    club: {
      members: await texts("[data-member] .org"),
      guests: await texts("[data-guest] .org"),
      countries: await page.locator("[data-country]").evaluateAll((nodes) => nodes.map((n) => n.dataset.country)),
      upcoming: await texts("#upcoming [data-meeting] .title"),
      past: await texts("#past [data-meeting] .title"),
      groups: await texts("[data-group] h3"),
      role: await page.locator("#viewer-role").textContent(),
    },
    // Where the keyboard is once the club shows (the token form it was in is hidden).
    focus: await page.evaluate(() => document.activeElement && document.activeElement.id),
  });

  const feed = () =>
    page.locator("#feed li").evaluateAll((items) =>
      items.map((item) => ({ kind: item.dataset.kind, cursor: item.dataset.cursor, text: item.textContent })),
    );

  // Live: the test accepts an invitation through the API; the new member appears.
  say({ step: "live" });
  await waitForWord("joined");
  await page.locator('#feed li[data-kind="member"]').first().waitFor({ timeout: 5_000 });
  say({ feed: await feed() });

  // Cut: both sides of every WebSocket closed, new ones refused until restored.
  cut = true;
  for (const { page: pageSide, server } of open.splice(0)) {
    await server.close().catch(() => {});
    await pageSide.close({ code: 1001, reason: "cut by the test" }).catch(() => {});
  }
  await page.locator('#live-state[data-state="reconnecting"]').waitFor(GUARD);
  say({ step: "cut" });
  await waitForWord("committed");
  cut = false;
  await page.locator('#live-state[data-state="live"]').waitFor(GUARD);
  say({ step: "restored" });
  // Until the feed shows what the test names (the last event of each subscription): each
  // stream is in commit order, so by then the page has had all that came before.
  await waitForWord("last");
  for (const text of JSON.parse(process.env.WAIT_FOR)) {
    await page.locator("#feed li", { hasText: text }).waitFor(GUARD);
  }
  say({
    feed: await feed(),
    members: await texts("[data-member] .org"),
    connections,
    offsite: browser.offsite,
    problems: browser.problems,
  });
} catch (error) {
  process.stderr.write(`${error.stack}\n`); // now: closing the browser may take a while
  process.exitCode = 1;
} finally {
  stdin.close(); // else it keeps the program alive
  await browser.close();
}
