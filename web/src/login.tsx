// The way in: log in, sign up (then logged in at once), or enter as a guest with a random name.
import { useState } from 'preact/hooks';
import type { ChatClient } from './client';

type Mode = 'login' | 'signup';

export function LoginView({ client }: { client: ChatClient }) {
  const [mode, setMode] = useState<Mode>('login');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    void run(() => (mode === 'login' ? client.logIn(name.trim(), password) : client.signUp(name.trim(), email.trim(), password)));
  };

  return (
    <main class="login">
      <div class="login-card">
        <h1>chatpipe</h1>
        {client.loginNotice && (
          <p class="notice" role="status">
            {client.loginNotice}
          </p>
        )}
        <div class="tabs" role="tablist" aria-label="Log in or sign up">
          {(['login', 'signup'] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={mode === m}
              class={mode === m ? 'tab active' : 'tab'}
              onClick={() => {
                setMode(m);
                setError(null);
              }}
            >
              {m === 'login' ? 'Log in' : 'Sign up'}
            </button>
          ))}
        </div>
        <form onSubmit={submit} aria-label={mode === 'login' ? 'Log in' : 'Sign up'}>
          <label>
            Name
            <input value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="username" required />
          </label>
          {mode === 'signup' && (
            <label>
              Email
              <input type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} autocomplete="email" required />
            </label>
          )}
          <label>
            Password
            <input
              type="password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
              minLength={mode === 'signup' ? 8 : undefined}
              required
            />
          </label>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" class="primary" disabled={busy}>
            {mode === 'login' ? 'Log in' : 'Sign up'}
          </button>
        </form>
        <div class="or">or</div>
        <button type="button" disabled={busy} onClick={() => void run(() => client.enterAsGuest())}>
          Enter as a guest
        </button>
      </div>
    </main>
  );
}
