// The one API client: openapi-fetch typed by the generated schema, with the token (when the daemon asks for one)
// added to every call. A 401 asks the user for the token once; it is kept in this browser's localStorage.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type WorkflowSummary = Schemas['WorkflowSummary'];
export type WorkflowDetail = Schemas['WorkflowDetail'];
export type Diagnostic = Schemas['Diagnostic'];
export type CheckResult = Schemas['CheckResult'];
export type ExecutionSummary = Schemas['ExecutionSummary'];
export type ExecutionDetail = Schemas['ExecutionDetail'];
export type StepDetail = Schemas['StepDetail'];
export type LogEntry = Schemas['LogEntry'];
export type FunctionInfo = Schemas['FunctionInfo'];
export type LiveEvent = Schemas['Event'];

const TOKEN_KEY = 'pilot.api-token';

/** Where the API is: the page's own origin, unless a host (the desktop shell) sets `window.PILOT_API_BASE`. */
export const apiBase: string = (globalThis as { PILOT_API_BASE?: string }).PILOT_API_BASE ?? '';

type AuthListener = (needed: boolean) => void;
const authListeners = new Set<AuthListener>();
let tokenNeeded = false;

/** The desktop shell gives its page the daemon's token (never stored, never in a URL): it comes first. */
const shellToken: string | null = (globalThis as { __PILOT_TOKEN__?: string | null }).__PILOT_TOKEN__ ?? null;

export function token(): string | null {
  if (shellToken) return shellToken;
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(value: string): void {
  localStorage.setItem(TOKEN_KEY, value.trim());
  tokenNeeded = false;
  authListeners.forEach((listener) => listener(false));
}

export function onAuthChange(listener: AuthListener): () => void {
  authListeners.add(listener);
  listener(tokenNeeded);
  return () => authListeners.delete(listener);
}

export function authHeaders(): Record<string, string> {
  const current = token();
  return current ? { Authorization: `Bearer ${current}` } : {};
}

export function reportUnauthorized(): void {
  if (tokenNeeded) return;
  tokenNeeded = true;
  authListeners.forEach((listener) => listener(true));
}

const auth: Middleware = {
  onRequest({ request }) {
    const current = token();
    if (current) request.headers.set('Authorization', `Bearer ${current}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) reportUnauthorized();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: apiBase });
api.use(auth);

/** The message of an API error body (`{"error": {"message"}}`), or a description of what failed. */
export function errorMessage(error: unknown, fallback = 'the request failed'): string {
  if (error && typeof error === 'object' && 'error' in error) {
    const detail = (error as { error?: { message?: string } }).error;
    if (detail?.message) return detail.message;
  }
  if (error instanceof Error) return error.message;
  return fallback;
}

/** Throws the API's message when a call failed; returns its data otherwise. */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch (err) {
    throw new Error(`cannot reach Pilot (${err instanceof Error ? err.message : String(err)}): is \`pilot serve\` running?`);
  }
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiFailure(result.response.status, errorMessage(result.error, `HTTP ${result.response.status}`), result.error);
  }
  return result.data as T;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }

  /** The diagnostics of a refused save (`details.diagnostics`). */
  get diagnostics(): Diagnostic[] {
    const details = (this.body as { error?: { details?: { diagnostics?: Diagnostic[] } } })?.error?.details;
    return details?.diagnostics ?? [];
  }
}
