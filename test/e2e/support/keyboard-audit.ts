import { expect, type Page } from '@playwright/test';
import type { PageElement, PageWindow } from './browser-types.js';

/** Roles of the controls an operator can use; each must carry a name a screen reader can say. */
const CONTROL_ROLES = ['button', 'link', 'textbox', 'combobox', 'listbox', 'checkbox', 'radio', 'spinbutton', 'searchbox', 'slider', 'switch'];
/** What the DOM calls a control (visible, not inside aria-hidden): the same set the snapshot must name. */
const CONTROL_SELECTOR = 'button, a[href], input:not([type="hidden"]), select, textarea, [role="button"], [role="link"]';

export interface ControlAudit {
  /** Controls in the accessibility tree without a name (role only). */
  unnamed: string[];
  /** How many controls the accessibility tree shows and the DOM holds. */
  treeCount: number;
  domCount: number;
}

/** Every control in the accessibility tree of the page, with or without its name. */
export async function auditNames(page: Page): Promise<ControlAudit> {
  const snapshot = await page.locator('body').ariaSnapshot();
  const unnamed: string[] = [];
  let treeCount = 0;
  for (const line of snapshot.split('\n')) {
    const match = /^\s*- (\w+)(?: "((?:[^"\\]|\\.)*)"| \/.*\/)?/.exec(line);
    if (!match || !CONTROL_ROLES.includes(match[1]!)) continue;
    treeCount += 1;
    // `- button "Name"` or `- button /regex/` carry a name; `- button` or `- button [disabled]` do not.
    if (!/^\s*- \w+ ("|\/)/.test(line) || match[2] === '') unnamed.push(line.trim());
  }
  const domCount = await page.evaluate((selector) => {
    const w = globalThis as unknown as PageWindow;
    return Array.from(w.document.querySelectorAll(selector)).filter((el) => {
      if (el.closest('[aria-hidden="true"]')) return false;
      const box = el.getBoundingClientRect();
      const style = w.getComputedStyle(el);
      return box.width > 0 && box.height > 0 && style.visibility !== 'hidden';
    }).length;
  }, CONTROL_SELECTOR);
  return { unnamed, treeCount, domCount };
}

export interface TabStop {
  /** A short description: tag, test id or name. */
  what: string;
  /** Position of the element in document order among all elements. */
  domIndex: number;
  focusVisible: boolean;
  /** Computed outline (style + width) or box-shadow while :focus-visible. */
  ring: string;
  hasRing: boolean;
}

/**
 * Tabs round the page until focus comes back to a control already seen, recording each stop: where it is in
 * the document (Tab must follow reading order), and whether a focus ring is drawn.
 */
export async function walkTabOrder(page: Page, maxStops = 120): Promise<TabStop[]> {
  await page.evaluate(() => {
    const w = globalThis as unknown as PageWindow;
    w.document.activeElement?.blur();
    w.scrollTo(0, 0);
  });
  const stops: TabStop[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < maxStops; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const w = globalThis as unknown as PageWindow;
      const el: PageElement | null = w.document.activeElement;
      if (!el || el === w.document.body) return null;
      const all = Array.from(w.document.querySelectorAll('*'));
      const style = w.getComputedStyle(el);
      const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
      const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
      const name = el.getAttribute('aria-label') ?? el.getAttribute('data-testid') ?? el.id ?? '';
      return {
        what: `${el.tagName.toLowerCase()}[${name || (el.textContent ?? '').trim().slice(0, 30)}]`,
        domIndex: all.indexOf(el),
        focusVisible: el.matches(':focus-visible'),
        ring: `outline ${style.outlineStyle} ${style.outlineWidth}; box-shadow ${style.boxShadow}`,
        hasRing: outline || shadow,
      };
    });
    // Past the last control focus leaves the page for a step, then wraps to the first control.
    if (stop === null) continue;
    if (seen.has(stop.domIndex)) break;
    seen.add(stop.domIndex);
    stops.push(stop);
  }
  // A screen that focuses a field on its own starts the walk in the middle: rotate the cycle so it
  // starts at the first control in the document (the order is a cycle either way).
  const first = stops.reduce((best, s, i) => (s.domIndex < stops[best]!.domIndex ? i : best), 0);
  return [...stops.slice(first), ...stops.slice(0, first)];
}

/** The enabled, visible controls the keyboard must reach on this screen (document order). */
export async function focusableCount(page: Page): Promise<number> {
  return page.evaluate(() => {
    const w = globalThis as unknown as PageWindow;
    const selector = 'button:not(:disabled), a[href], input:not(:disabled):not([type="hidden"]), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';
    const radioGroups = new Set<string>();
    return Array.from(w.document.querySelectorAll(selector)).filter((el) => {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || w.getComputedStyle(el).visibility === 'hidden') return false;
      // A radio group is one Tab stop (arrow keys move inside it).
      if (el.tagName === 'INPUT' && el.type === 'radio' && el.name) {
        if (radioGroups.has(el.name)) return false;
        radioGroups.add(el.name);
      }
      return true;
    }).length;
  });
}

/** Names, Tab order and focus rings of the screen on show; `screen` names it in failure messages. */
export async function expectKeyboardAccessible(page: Page, screen: string): Promise<TabStop[]> {
  const names = await auditNames(page);
  expect(names.unnamed, `${screen}: controls without an accessible name`).toEqual([]);
  expect(names.treeCount, `${screen}: every control is in the accessibility tree`).toBe(names.domCount);
  expect(names.treeCount, `${screen}: has controls`).toBeGreaterThan(0);

  const stops = await walkTabOrder(page);
  expect(stops.length, `${screen}: Tab reaches every enabled control (${stops.map((s) => s.what).join(', ')})`).toBe(await focusableCount(page));
  const order = stops.map((s) => s.domIndex);
  expect(order, `${screen}: Tab follows reading order`).toEqual([...order].sort((a, b) => a - b));
  const noRing = stops.filter((s) => !s.focusVisible || !s.hasRing).map((s) => `${s.what}: ${s.ring}`);
  expect(noRing, `${screen}: a visible focus ring on every stop`).toEqual([]);
  return stops;
}
