// Sign in: email and password, then (if the operator enrolled one) a TOTP code in a second step.
import { useState } from 'preact/hooks';
import { ApiError, errorMessage } from '../api.js';
import { safeNextPath } from '../next-path.js';
import { operatorApi } from '../operator-api.js';
import { navigate } from '../router.js';
import { useSession } from '../session.js';
import { Button, Field, Form } from '../ui/controls.js';
import { useLoad } from '../ui/hooks.js';
import type { PageDefinition } from './registry.js';

function safeNext(): string {
  return safeNextPath(new URLSearchParams(location.search).get('next'));
}

function SignIn() {
  const session = useSession();
  const setup = useLoad(() => operatorApi.setupNeeded(), []);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [step, setStep] = useState<'password' | 'totp'>('password');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await operatorApi.signIn({ email, password, ...(step === 'totp' ? { totp } : {}) });
      await session.refresh();
      navigate(safeNext(), { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'totp_required') {
        setStep('totp');
        if (step === 'totp') setError('That code is not right. Codes change every 30 seconds: use the current one.');
      } else if (e instanceof ApiError && e.code === 'invalid_credentials') {
        setError('The email or password is not right.');
      } else {
        setError(errorMessage(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="card narrow">
      <h1>Sign in to Gatehouse</h1>
      {setup.data?.needed && (
        <p class="notice" role="status">
          This server has no operator yet. Open the setup link the server printed when it started (it ends in <code>#token=…</code>).
        </p>
      )}
      <Form onSubmit={submit} error={error} label="Sign in">
        {step === 'password' ? (
          <>
            <Field label="Email" type="email" autoComplete="username" required value={email} onValue={setEmail} autoFocus />
            <Field label="Password" type="password" autoComplete="current-password" required value={password} onValue={setPassword} />
          </>
        ) : (
          <Field label="Authenticator code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required
            hint="The 6-digit code your authenticator app shows for Gatehouse." value={totp} onValue={setTotp} autoFocus />
        )}
        <div class="actions">
          <Button type="submit" kind="primary" busy={busy} busyText="Signing in…">{step === 'totp' ? 'Verify code' : 'Sign in'}</Button>
          {step === 'totp' && <Button onClick={() => { setStep('password'); setTotp(''); setError(null); }}>Back</Button>}
        </div>
      </Form>
    </div>
  );
}

export const signInPage: PageDefinition = { path: '/sign-in', title: 'Sign in', access: 'guest', component: SignIn };
