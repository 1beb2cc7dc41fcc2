import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT } from './cli';

const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

// A full-page screenshot under test-results/screenshots/<name>.png, for a person to look at.
export async function shot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}
