// The operator's own account: TOTP enrolment (and removal) and sign-out.
import { useState } from 'preact/hooks';
import { setCsrfToken } from '../api.js';
import { operatorApi, type TotpEnrolment } from '../operator-api.js';
import { navigate } from '../router.js';
import { useSession } from '../session.js';
import { Button, CopyButton, Field, Form, Section } from '../ui/controls.js';
import { useAction } from '../ui/hooks.js';
import type { PageDefinition } from './registry.js';

function Totp() {
  const session = useSession();
  const enabled = session.me?.operator.totpEnabled ?? false;
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [turnedOn, setTurnedOn] = useState(false);
  const enroll = useAction(async () => {
    setEnrolment(await operatorApi.totpEnroll(password));
    setPassword('');
  });
  const confirm = useAction(async () => {
    await operatorApi.totpConfirm(code);
    setTurnedOn(true);
    setEnrolment(null);
    setCode('');
    await session.refresh();
  });
  const disable = useAction(async () => {
    await operatorApi.totpDisable(code, password);
    setTurnedOn(false);
    setCode('');
    setPassword('');
    await session.refresh();
  });

  return (
    <Section title="Two-step sign-in (TOTP)">
      {turnedOn && enabled && <p class="notice" role="status">Two-step sign-in is on: from now on signing in asks for a code.</p>}
      {enabled && !enrolment ? (
        <Form onSubmit={() => void disable.run()} error={disable.error} label="Turn off two-step sign-in">
          <p>Two-step sign-in is <strong>on</strong>. To turn it off, enter your password and a current code.</p>
          <Field label="Current password" type="password" autoComplete="current-password" required value={password} onValue={setPassword} />
          <Field label="Authenticator code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} required value={code} onValue={setCode} />
          <div class="actions"><Button type="submit" kind="danger" busy={disable.busy} busyText="Turning off…">Turn off</Button></div>
        </Form>
      ) : enrolment ? (
        <Form onSubmit={() => void confirm.run()} error={confirm.error} label="Confirm two-step sign-in">
          <p>Add this key to your authenticator app (or open the link on a phone that has one), then enter the code it shows.</p>
          <p><code class="secret" data-testid="totp-secret">{enrolment.secret}</code> <CopyButton text={enrolment.secret} label="Copy key" /></p>
          <p><a href={enrolment.otpauthUrl}>Open in authenticator app</a></p>
          <Field label="Authenticator code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} required value={code} onValue={setCode} />
          <div class="actions">
            <Button type="submit" kind="primary" busy={confirm.busy} busyText="Checking…">Confirm</Button>
            <Button onClick={() => setEnrolment(null)}>Cancel</Button>
          </div>
        </Form>
      ) : (
        <Form onSubmit={() => void enroll.run()} error={enroll.error} label="Turn on two-step sign-in">
          <p>Two-step sign-in is <strong>off</strong>. With it on, signing in also asks for a code from an authenticator app. Turning it on signs out your other sessions.</p>
          <Field label="Current password" type="password" autoComplete="current-password" required value={password} onValue={setPassword} />
          <div class="actions"><Button type="submit" kind="primary" busy={enroll.busy} busyText="Preparing…">Turn on</Button></div>
        </Form>
      )}
    </Section>
  );
}

function ChangePassword() {
  const session = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  const change = useAction(async () => {
    setDone(false);
    if (next !== repeat) throw new Error('The two new passwords differ.');
    const me = await operatorApi.changePassword({ currentPassword: current, newPassword: next });
    setCsrfToken(me.csrfToken);
    await session.refresh();
    setCurrent('');
    setNext('');
    setRepeat('');
    setDone(true);
  });
  return (
    <Section title="Password">
      <Form onSubmit={() => void change.run()} error={change.error} label="Change password">
        <Field label="Current password" type="password" autoComplete="current-password" required value={current} onValue={setCurrent} />
        <Field label="New password" type="password" autoComplete="new-password" required minLength={12} value={next} onValue={setNext}
          hint="Every other session of yours ends; this browser stays signed in." />
        <Field label="Repeat new password" type="password" autoComplete="new-password" required value={repeat} onValue={setRepeat} />
        <div class="actions"><Button type="submit" kind="primary" busy={change.busy} busyText="Changing…">Change password</Button></div>
      </Form>
      {done && <p class="notice" role="status">Password changed. Other sessions are signed out.</p>}
    </Section>
  );
}

function Account() {
  const session = useSession();
  const signOut = useAction(async () => {
    await operatorApi.signOut();
    session.signedOut();
    navigate('/sign-in', { replace: true });
  });
  return (
    <>
      <h1>Account</h1>
      <p>Signed in as <strong>{session.me?.operator.email}</strong>.</p>
      <ChangePassword />
      <Totp />
      <Section title="Sign out">
        <Button kind="secondary" busy={signOut.busy} busyText="Signing out…" onClick={() => void signOut.run()}>Sign out</Button>
        {signOut.error && <p class="error" role="alert">{signOut.error}</p>}
      </Section>
    </>
  );
}

export const accountPage: PageDefinition = { path: '/account', title: 'Account', nav: 'account', access: 'operator', component: Account };
