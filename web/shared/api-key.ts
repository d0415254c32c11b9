/**
 * The API key a page was given, when the server has keys. It lives in sessionStorage and travels
 * in the Authorization header: never in a cookie, so a forged cross-site request carries no
 * credential, and it is forgotten with the tab.
 */
const STORAGE = 'visionops.apiKey';

export function rememberKey(key: string): void {
  sessionStorage.setItem(STORAGE, key.trim());
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE);
}

/** Headers that authenticate a request: none when no key was given. */
export function keyHeaders(): Record<string, string> {
  const key = sessionStorage.getItem(STORAGE);
  return key === null ? {} : { authorization: `Bearer ${key}` };
}
