// What every browser program here shares: Debian's Chromium driven by playwright-core (no
// browser download), a fresh profile each time, and every request for another host than the
// service's refused and recorded (the pages must need nothing from the internet).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-gpu",
];

/** A browser context of its own profile; `offsite` lists the refused requests. */
export async function openBrowser({ viewport = { width: 1280, height: 900 } } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "clubjustice-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport,
  });
  const offsite = [];
  await context.route("**/*", (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
    offsite.push(route.request().url());
    return route.abort("internetdisconnected");
  });
  const problems = [];
  context.on("weberror", (error) => problems.push(String(error.error())));
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, offsite, problems, close };
}

/** Prints one JSON line (what the Python test reads). */
export function say(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
