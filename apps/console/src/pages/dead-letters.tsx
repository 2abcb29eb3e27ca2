/**
 * Dead letters: the records the worker could not use, their content, and replay of the ones chosen. Both need an
 * admin token; the page asks GET /v1/tokens/self first and offers neither list nor replay to another token.
 */
import { useEffect, useState } from 'preact/hooks';

import {
  listDeadLetters,
  replayDeadLetters,
  TOKEN_CHANGED,
  tokenSelf,
  type DeadLetter,
  type TokenSelf,
} from '../api.js';
import { formatTime } from '../format.js';
import { ErrorBanner } from '../status.js';

function pretty(value: string): string {
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

export function DeadLettersPage() {
  const [letters, setLetters] = useState<DeadLetter[]>();
  const [error, setError] = useState<unknown>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [self, setSelf] = useState<TokenSelf>();

  const load = async () => {
    try {
      const who = await tokenSelf();
      setSelf(who);
      setError(undefined);
      if (who.scopes.includes('admin')) setLetters(await listDeadLetters(200));
      else setLetters(undefined);
    } catch (e) {
      setSelf(undefined);
      setLetters(undefined);
      setError(e);
    }
  };
  useEffect(() => {
    void load();
    const reload = () => void load();
    addEventListener(TOKEN_CHANGED, reload);
    return () => removeEventListener(TOKEN_CHANGED, reload);
  }, []);
  const admin = self?.scopes.includes('admin') === true;

  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const replay = async () => {
    setBusy(true);
    setMessage(undefined);
    try {
      const { replayed } = await replayDeadLetters([...selected]);
      setMessage(`Replayed ${replayed} dead letter${replayed === 1 ? '' : 's'} to the main topic.`);
      setSelected(new Set());
      setError(undefined);
      await load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const letter = letters?.find((l) => l.id === shown);

  return (
    <section aria-labelledby="dlq-title">
      <h1 id="dlq-title">Dead letters</h1>
      <p class="controls">
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
        {admin && (
          <button type="button" disabled={selected.size === 0 || busy} onClick={() => void replay()}>
            Replay selected ({selected.size})
          </button>
        )}
      </p>
      {self && !admin && (
        <p class="hint" role="status" data-testid="needs-admin">
          Dead letters and their replay need an admin token; this token ({self.id}) may use {self.scopes.join(', ')}
          {self.sensorPrefix ? ` for sensors "${self.sensorPrefix}*"` : ''}.
        </p>
      )}
      <ErrorBanner error={error} />
      {message && (
        <p class="ok" role="status">
          {message}
        </p>
      )}
      {letters && letters.length === 0 && <p class="hint">No dead letters.</p>}
      {letters && letters.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Dead letters">
          <table class="letters">
            <thead>
              <tr>
                <th scope="col">Replay</th>
                <th scope="col">Dead-lettered</th>
                <th scope="col">Source</th>
                <th scope="col">Reason</th>
                <th scope="col">Replayed</th>
                <th scope="col">Content</th>
              </tr>
            </thead>
            <tbody>
              {letters.map((l) => (
                <tr key={l.id} data-id={l.id}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${l.id} for replay`}
                      checked={selected.has(l.id)}
                      onChange={(e) => toggle(l.id, e.currentTarget.checked)}
                    />
                  </td>
                  <td>{formatTime(Date.parse(l.deadLetteredAt), 'browser')}</td>
                  <td>
                    <code>{l.id}</code>
                  </td>
                  <td>{l.reason}</td>
                  <td>{l.replayedAt ? formatTime(Date.parse(l.replayedAt), 'browser') : 'no'}</td>
                  <td>
                    <button
                      type="button"
                      aria-expanded={shown === l.id}
                      onClick={() => setShown(shown === l.id ? undefined : l.id)}
                    >
                      {shown === l.id ? 'Hide' : 'Show'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {letter && (
        <figure class="content">
          <figcaption>
            Content of <code>{letter.id}</code> (as received, first 64 KiB)
          </figcaption>
          <pre tabIndex={0} data-testid="letter-content">
            {pretty(letter.value)}
          </pre>
        </figure>
      )}
    </section>
  );
}
