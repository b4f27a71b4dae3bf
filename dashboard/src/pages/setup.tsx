// First run: the server prints /_/setup#token=…; the token stays in the fragment, so it never
// reaches a server log or a Referer. The first operator becomes the owner.
import { useState } from 'preact/hooks';
import { errorMessage } from '../api.js';
import { operatorApi } from '../operator-api.js';
import { navigate } from '../router.js';
import { useSession } from '../session.js';
import { Button, Field, Form, Loading } from '../ui/controls.js';
import { useLoad } from '../ui/hooks.js';
import type { PageDefinition } from './registry.js';

function tokenFromHash(): string {
  return new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
}

function Setup() {
  const session = useSession();
  const needed = useLoad(() => operatorApi.setupNeeded(), []);
  const [token, setToken] = useState(tokenFromHash);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (needed.loading) return <Loading what="setup" />;
  if (needed.data && !needed.data.needed) {
    return (
      <div class="card narrow">
        <h1>Setup is done</h1>
        <p>This server already has an owner. <a href="/_/sign-in">Sign in</a> instead.</p>
      </div>
    );
  }

  const submit = async () => {
    if (password !== repeat) {
      setError('The two passwords differ.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      // Setup signs the new owner in (its answer sets the session cookie).
      await operatorApi.setup({ token, email, password });
      // Drop the token from the address bar and history.
      history.replaceState(null, '', location.pathname);
      await session.refresh();
      navigate('/', { replace: true });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="card narrow">
      <h1>Set up Gatehouse</h1>
      <p>Create the owner account. The owner can add other operators later.</p>
      <ErrorIfLoad error={needed.error} />
      <Form onSubmit={submit} error={error} label="Set up">
        <Field label="Setup token" required value={token} onValue={setToken} autoComplete="off"
          hint="From the setup link the server printed. Filled in when you opened that link." />
        <Field label="Email" type="email" autoComplete="username" required value={email} onValue={setEmail} />
        <Field label="Password" type="password" autoComplete="new-password" required minLength={12} value={password} onValue={setPassword}
          hint="At least 12 characters." />
        <Field label="Repeat password" type="password" autoComplete="new-password" required value={repeat} onValue={setRepeat} />
        <div class="actions">
          <Button type="submit" kind="primary" busy={busy} busyText="Creating the owner…">Create owner</Button>
        </div>
      </Form>
    </div>
  );
}

function ErrorIfLoad({ error }: { error: string | null }) {
  return error ? <p class="error" role="alert">{error}</p> : null;
}

export const setupPage: PageDefinition = { path: '/setup', title: 'Setup', access: 'guest', component: Setup };
