/** Hash routing (`#/explore?...`): works from static files under any prefix, and the hash holds the whole view. */
import { useEffect, useState } from 'preact/hooks';

export const PAGES = ['explore', 'live', 'pipeline', 'dead-letters'] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  params: URLSearchParams;
}

function current(): Route {
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const page = (PAGES as readonly string[]).includes(path) ? (path as Page) : 'explore';
  return { page, params: new URLSearchParams(query) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

export function href(page: Page, params?: URLSearchParams): string {
  const query = params?.toString();
  return `#/${page}${query ? `?${query}` : ''}`;
}

/** Puts `params` in the URL of `page`; `replace` keeps the history entry (typing), else adds one (a new query). */
export function navigate(page: Page, params: URLSearchParams, replace = false): void {
  const url = href(page, params);
  if (url === location.hash) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  dispatchEvent(new HashChangeEvent('hashchange'));
}
