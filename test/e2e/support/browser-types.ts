/**
 * The few browser objects the in-page functions of the e2e helpers touch. The node type environment
 * has no DOM lib (and must not get one globally), so in-page code reads `globalThis` through these
 * type-only shapes; they are erased before Playwright serialises the function.
 */
export interface PageElement {
  tagName: string;
  id: string;
  type?: string;
  name?: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  matches(selector: string): boolean;
  getBoundingClientRect(): { width: number; height: number };
  blur(): void;
}

export interface PageWindow {
  document: {
    activeElement: PageElement | null;
    body: PageElement;
    querySelectorAll(selector: string): ArrayLike<PageElement>;
  };
  getComputedStyle(element: PageElement): { outlineStyle: string; outlineWidth: string; boxShadow: string; visibility: string };
  scrollTo(x: number, y: number): void;
}
