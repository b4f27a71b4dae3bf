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
  operator: { id: string; email: string; totpEnabled: boolean; owner?: boolean };
  csrfToken: string;
  projects: ProjectAccess[];
}

export interface OperatorRow {
  id: string;
  email: string;
  totpEnabled?: boolean;
  owner?: boolean;
  createdAt?: string;
  projects?: { id: string; role: ProjectRole }[];
}

export const operatorApi = {
  setupNeeded: () => request<{ needed: boolean }>('GET', '/_/api/setup'),
  setup: (body: { token: string; email: string; password: string }) => request<unknown>('POST', '/_/api/setup', body),
  signIn: (body: { email: string; password: string; totp?: string }) => request<unknown>('POST', '/_/api/sign-in', body),
  signOut: () => request<unknown>('POST', '/_/api/sign-out', {}),
  me: () => request<Me>('GET', '/_/api/me'),
  totpEnroll: () => request<{ secret: string; uri: string; qr?: string }>('POST', '/_/api/totp/enroll', {}),
  totpConfirm: (code: string) => request<{ recoveryCodes?: string[] }>('POST', '/_/api/totp/confirm', { code }),
  totpDisable: (code: string) => request<unknown>('POST', '/_/api/totp/disable', { code }),
  listOperators: () => request<{ operators: OperatorRow[] } | OperatorRow[]>('GET', '/_/api/operators'),
  createOperator: (body: Record<string, unknown>) => request<unknown>('POST', '/_/api/operators', body),
  updateOperator: (id: string, body: Record<string, unknown>) => request<unknown>('PUT', `/_/api/operators/${encodeURIComponent(id)}`, body),
  deleteOperator: (id: string) => request<unknown>('DELETE', `/_/api/operators/${encodeURIComponent(id)}`),
};
