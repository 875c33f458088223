// The club page in Chromium with markup in the club's data (tests/browser/test_pages.py): it
// must show it as text. Reports the names shown, the <img> elements in the page and any
// dialog (an `onerror=alert(…)` that ran).
//   node hostile.mjs BASE_URL TOKEN
import { openBrowser, say } from "./browser.mjs";

const [base, token] = process.argv.slice(2);
const GUARD = { timeout: 10_000 }; // against a hang; the steps take well under a second

const browser = await openBrowser();
try {
  const page = await browser.context.newPage();
  const dialogs = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(`${base}/`);
  await page.locator("#access").waitFor({ state: "visible", ...GUARD });
  await page.fill("#token", token);
  await page.press("#token", "Enter");
  await page.locator('#live-state[data-state="live"]').waitFor(GUARD);
  say({
    guests: await page.locator("[data-guest] .org").allTextContents(),
    upcoming: await page.locator("#upcoming [data-meeting] .title").allTextContents(),
    images: await page.locator("img").count(),
    dialogs,
    problems: browser.problems,
  });
} catch (error) {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
