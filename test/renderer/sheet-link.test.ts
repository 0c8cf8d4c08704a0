import { describe, expect, it } from 'vitest';
import { sheetPdfHref } from '../../renderer/src/sheet-link.js';

const page = { protocol: 'http:', host: '127.0.0.1:4123', search: '?key=k%2B1' };

describe('sheetPdfHref', () => {
  it('adds the page secret to a same-origin sheet URL', () => {
    expect(sheetPdfHref('/labels/0f0e.pdf', page)).toBe('/labels/0f0e.pdf?key=k%2B1');
    expect(sheetPdfHref('http://127.0.0.1:4123/labels/a.pdf#page=1', page)).toBe('/labels/a.pdf?key=k%2B1#page=1');
  });

  it('keeps a key that is already there and leaves other origins alone', () => {
    expect(sheetPdfHref('/labels/a.pdf?key=other', page)).toBe('/labels/a.pdf?key=other');
    expect(sheetPdfHref('https://example.com/a.pdf', page)).toBe('https://example.com/a.pdf');
  });

  it('does nothing without a secret or outside http(s)', () => {
    expect(sheetPdfHref('/labels/a.pdf', { ...page, search: '' })).toBe('/labels/a.pdf');
    expect(sheetPdfHref('/labels/a.pdf', { protocol: 'app:', host: 'flashline', search: '?key=x' })).toBe('/labels/a.pdf');
  });
});
