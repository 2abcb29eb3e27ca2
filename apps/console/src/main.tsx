/** The console's shell: navigation, the session token, and the page the URL names. */
import { render } from 'preact';
import { useState } from 'preact/hooks';

import { getToken, setToken, TOKEN_CHANGED } from './api.js';
import { DeadLettersPage } from './pages/dead-letters.js';
import { ExplorePage } from './pages/explore.js';
import { LivePage } from './pages/live.js';
import { PipelinePage } from './pages/pipeline.js';
import { href, useRoute, type Page } from './route.js';
import './styles.css';

const TITLES: Record<Page, string> = {
  explore: 'Explore',
  live: 'Live',
  pipeline: 'Pipeline',
  'dead-letters': 'Dead letters',
};

function TokenField() {
  const [token, setValue] = useState(getToken());
  return (
    <label class="token">
      Token
      <input
        type="password"
        autocomplete="off"
        value={token}
        placeholder="none"
        onInput={(e) => {
          const value = e.currentTarget.value.trim();
          setValue(value);
          setToken(value);
        }}
        // Once entered (Enter or leaving the field), not per keystroke: each half-typed token would be a failed login.
        onChange={() => dispatchEvent(new Event(TOKEN_CHANGED))}
      />
    </label>
  );
}

function App() {
  const route = useRoute();
  document.title = `${TITLES[route.page]} · Funnel`;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header>
        <strong class="brand">Funnel</strong>
        <nav aria-label="Pages">
          {(Object.keys(TITLES) as Page[]).map((page) => (
            <a key={page} href={href(page)} aria-current={route.page === page ? 'page' : undefined}>
              {TITLES[page]}
            </a>
          ))}
        </nav>
        <TokenField />
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'explore' && <ExplorePage params={route.params} />}
        {route.page === 'live' && <LivePage params={route.params} />}
        {route.page === 'pipeline' && <PipelinePage />}
        {route.page === 'dead-letters' && <DeadLettersPage />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
