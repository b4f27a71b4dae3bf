// The operator API (/_/api/*): setup, sign-in, who is signed in, TOTP and operators.
import { request } from './api.js';

export type ProjectRole = 'owner' | 'admin' | 'viewer' | (string & {});

export interface ProjectAccess {
  id: string;
  name: string;
  role: ProjectRole;
  environments: string[];
}

export interface Me {
  operator: { id: string; email: string; totpEnabled: boolean };
  csrfToken: string;
  projects: ProjectAccess[];
}

export interface OperatorGrant {
  projectId: string;
  role: ProjectRole;
}

export interface OperatorRow {
  id: string;
  email: string;
  totpEnabled: boolean;
  createdAt: string;
  roles: OperatorGrant[];
}

/** What enrolling a second factor answers: the secret, shown once, and the otpauth:// link for authenticator apps. */
export interface TotpEnrolment {
  secret: string;
  otpauthUrl: string;
}

export const operatorApi = {
  setupNeeded: () => request<{ needed: boolean }>('GET', '/_/api/setup'),
  setup: (body: { token: string; email: string; password: string }) => request<unknown>('POST', '/_/api/setup', body),
  signIn: (body: { email: string; password: string; totp?: string }) => request<unknown>('POST', '/_/api/sign-in', body),
  signOut: () => request<unknown>('POST', '/_/api/sign-out', {}),
  me: () => request<Me>('GET', '/_/api/me'),
  /** Ends every session of the operator; this browser gets a new one (the answer is a new /me). */
  changePassword: (body: { currentPassword: string; newPassword: string }) => request<Me>('POST', '/_/api/password', body),
  totpEnroll: (currentPassword: string) => request<TotpEnrolment>('POST', '/_/api/totp/enroll', { currentPassword }),
  totpConfirm: (code: string) => request<unknown>('POST', '/_/api/totp/confirm', { code }),
  totpDisable: (code: string, currentPassword: string) => request<unknown>('POST', '/_/api/totp/disable', { code, currentPassword }),
  listOperators: () => request<{ operators: OperatorRow[] }>('GET', '/_/api/operators'),
  createOperator: (body: { email: string; password: string; roles: OperatorGrant[] }) => request<OperatorRow>('POST', '/_/api/operators', body),
  /** role null removes the operator from that project. */
  setOperatorRoles: (id: string, roles: { projectId: string; role: ProjectRole | null }[]) =>
    request<OperatorRow>('PUT', `/_/api/operators/${encodeURIComponent(id)}`, { roles }),
  deleteOperator: (id: string) => request<unknown>('DELETE', `/_/api/operators/${encodeURIComponent(id)}`),
};
