/**
 * uPlot builds `new Intl.NumberFormat(navigator.language)` as it loads, and a browser running under
 * a POSIX locale reports tags such as `en-US@posix` that Intl refuses with a RangeError: the page
 * never drew. This module is imported before uPlot; when the browser's tag is not one Intl accepts,
 * the page sees Intl's default locale in its place.
 */

/** The tag in Intl's canonical form, or undefined when Intl refuses it. */
export function intlLanguageTag(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

if (typeof navigator !== 'undefined' && intlLanguageTag(navigator.language) === undefined) {
  Object.defineProperty(navigator, 'language', { value: new Intl.NumberFormat().resolvedOptions().locale, configurable: true });
}
