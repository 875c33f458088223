// The club page in Chromium with a token kept in the browser that the service refuses
// (revoked, or from a database since reset), on a service whose anonymous reads are on
// (tests/browser/test_anonymous_page.py): the page says the token was refused and offers to
// forget it; forgotten, the page shows the club as anonymous.
//   node stale_token.mjs BASE_URL
import { openBrowser, say } from "./browser.mjs";

const [base] = process.argv.slice(2);
const GUARD = { timeout: 10_000 }; // against a hang; the steps take well under a second

const browser = await openBrowser();
try {
  const page = await browser.context.newPage();
  await page.goto(`${base}/`);
  await page.evaluate(() => localStorage.setItem("clubjustice.token", "cj_not_a_token_of_this_service"));
  await page.reload();
  await page.locator("#access").waitFor({ state: "visible", ...GUARD });
  say({ asked: await page.locator("#access-reason").textContent(), clubShown: await page.locator("#club").isVisible() });
  await page.locator("#forget").click(GUARD);
  await page.locator("#club").waitFor({ state: "visible", ...GUARD });
  say({
    role: await page.locator("#viewer-role").textContent(),
    kept: await page.evaluate(() => localStorage.getItem("clubjustice.token")),
    problems: browser.problems,
  });
} catch (error) {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
