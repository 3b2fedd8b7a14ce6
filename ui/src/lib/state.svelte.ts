// App-wide reactive state: language, current screen, sync status, last error.
import { detectLang, translate, errorText, type Lang } from './i18n';
import type { MessageKey } from './messages';
import type { SyncStatus } from './generated/SyncStatus';
import type { MissingView } from './generated/MissingView';
import type { Code } from './generated/Code';
import type { RoleView } from './generated/RoleView';
import type { FieldRef } from './generated/FieldRef';
import { BackendError, toBackendError } from './backend';

export type Screen =
  | { name: 'signin' }
  | { name: 'today' }
  | { name: 'orders' }
  | { name: 'order'; orderId: string }
  | { name: 'checklist'; orderId: string }
  | { name: 'certificate'; orderId: string }
  | { name: 'fees'; orderId: string }
  | { name: 'parts'; orderId: string }
  | { name: 'handover'; orderId: string }
  | { name: 'done'; orderId: string };

export const ui = $state({
  lang: detectLang(typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language]) as Lang,
  screen: { name: 'signin' } as Screen,
  sync: { online: false, pending_changes: 0, last_synced_ms: null, progress: null, last_error: null } as SyncStatus,
  error: null as { code: Code; missing: MissingView[]; field?: FieldRef | null } | null,
  technicianName: '',
  /** The relay is reached by plain http:// over a network (Rust's `Session.unencrypted`). */
  unencrypted: false,
  /** The order the device is handed over for (kept by Rust, also across restarts). */
  handover: null as string | null,
  /** A one-off note for the next screen (e.g. signed out while the relay was unreachable). */
  notice: null as MessageKey | null,
  // console: a dispatcher or admin gets the console, a technician the technician's app.
  role: null as RoleView | null,
  /** registry: FieldErrors on screen; while there are any, an error about a field shows there. */
  fieldErrors: 0,
});

export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  return translate(ui.lang, key, vars);
}

export function errText(code: Code): string {
  return errorText(ui.lang, code);
}

/** Whether `screen` may be shown: while handed over, only that order's hand-over and record. */
export function reachable(screen: Screen): boolean {
  if (ui.handover === null) return true;
  return (screen.name === 'handover' || screen.name === 'done') && screen.orderId === ui.handover;
}

/** Show an error the screen itself found (e.g. a reading that is not a number), by its code. */
export function showCode(code: Code): void {
  ui.error = { code, missing: [] };
}

export function go(screen: Screen): void {
  if (!reachable(screen)) return;
  ui.error = null;
  ui.screen = screen;
}

export function showError(e: unknown): BackendError {
  const err = toBackendError(e);
  ui.error = { code: err.code, missing: err.missing, field: err.field };
  return err;
}

/** Run a backend call, showing its error (by code) if it fails; returns undefined on failure. */
export async function attempt<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    const r = await f();
    ui.error = null;
    return r;
  } catch (e) {
    showError(e);
    return undefined;
  }
}

import type { OrderDetail } from './generated/OrderDetail';
import type { EditRequest } from './generated/EditRequest';
import { backend } from './backend';

/** The order being worked on, shared by the job screens. */
export const job = $state({ detail: null as OrderDetail | null });

export async function loadJob(orderId: string): Promise<void> {
  const d = await attempt(() => backend.orderDetail(orderId));
  if (d) job.detail = d;
}

/** Apply one edit; on success the screen shows the new state, on refusal the translated error. */
export async function edit(orderId: string, req: EditRequest): Promise<boolean> {
  const d = await attempt(() => backend.applyEdit(orderId, req));
  if (d) job.detail = d;
  return d !== undefined;
}
