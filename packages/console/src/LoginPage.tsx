import { useState, type FormEvent } from 'react';
import { login, type Account } from './api';

export function LoginPage({ onLoggedIn, initialError }: { onLoggedIn: (account: Account) => void; initialError: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(initialError);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!username.trim() || !password) {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      onLoggedIn(await login(username.trim(), password));
    } catch (e) {
      setError(e instanceof TypeError ? 'Loire does not answer: check the network or ask your administrator.' : (e as Error).message);
      setBusy(false);
    }
  };

  return (
    <div className="centered">
      <form className="login" onSubmit={submit} aria-label="Log in">
        <h1>Loire</h1>
        <label>Username<input name="username" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} /></label>
        <label>Password<input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
      </form>
    </div>
  );
}
