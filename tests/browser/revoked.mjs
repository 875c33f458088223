// The club page in Chromium when its token is revoked while it follows the club live
// (tests/browser/test_pages.py): it must stop its live feed and say so, not resubscribe.
//   node revoked.mjs BASE_URL TOKEN
import { createInterface } from "node:readline";
import { openBrowser, say } from "./browser.mjs";

const [base, token] = process.argv.slice(2);
const stdin = createInterface({ input: process.stdin });
const words = stdin[Symbol.asyncIterator]();
const GUARD = { timeout: 10_000 }; // against a hang; the steps take well under a second

const browser = await openBrowser();
try {
  const page = await browser.context.newPage();
  page.on("console", (message) => process.stderr.write(`console ${message.type()}: ${message.text()}\n`));
  await page.goto(`${base}/`);
  await page.locator("#access").waitFor({ state: "visible", ...GUARD });
  await page.fill("#token", token);
  await page.press("#token", "Enter");
  await page.locator('#live-state[data-state="live"]').waitFor(GUARD);
  say({ step: "live" });
  const { value } = await words.next();
  if (value.trim() !== "revoked") throw new Error(`expected "revoked" on stdin, got ${value}`);
  await page.locator('#live-state[data-state="stopped"]').waitFor(GUARD);
  say({ stopped: await page.locator("#live-state").textContent(), problems: browser.problems });
} catch (error) {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
} finally {
  stdin.close();
  await browser.close();
}
