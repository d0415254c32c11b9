import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { createVisionops, type Visionops } from '../../src/app/visionops.js';
import { loadConfig } from '../../src/config/load.js';
import { hashKey } from '../../src/server/auth.js';
import { launchChromium } from './browser.js';
import { noModelsPipeline } from './pipelines.js';
import { closeFixture, reviewFixture, type ReviewFixture } from './review.js';

/** A model-less server over fresh review stores, listening, with one reviewer key (id `ana`), and a headless Chromium to drive `/review`. */
export interface ReviewPageBench {
  fixture: ReviewFixture;
  browser: Browser;
  address: string;
  /** Opens `/review` and signs in with the reviewer's key. */
  signIn(page: Page): Promise<void>;
  /** A task as the API gives it to the reviewer. */
  stored(id: string): Promise<any>;
  close(): Promise<void>;
}

export async function reviewPageBench(key: string, prefix?: string): Promise<ReviewPageBench> {
  const browser = await launchChromium();
  const fixture = reviewFixture(prefix);
  let visionops: Visionops | undefined;
  const close = async () => {
    await browser.close();
    await visionops?.close();
    await closeFixture(fixture);
    rmSync(fixture.dir, { recursive: true, force: true });
  };
  try {
    const keys = [{ id: 'ana', sha256: hashKey(key), scopes: ['review'] }];
    const config = loadConfig({ sets: ['server.logLevel="silent"', `auth.keys=${JSON.stringify(keys)}`] });
    visionops = await createVisionops(config, { overrides: { stores: fixture.stores, pipelines: [noModelsPipeline], lab: [] } });
    const address = await (await visionops.server()).listen({ host: '127.0.0.1', port: 0 });
    return {
      fixture,
      browser,
      address,
      async signIn(page) {
        await page.goto(`${address}/review`);
        await page.locator('#login').waitFor({ state: 'visible' });
        await page.locator('#key').fill(key);
        await page.keyboard.press('Enter');
      },
      async stored(id) {
        const response = await fetch(`${address}/v1/reviews/${id}`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(response.status, 200);
        return response.json();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
