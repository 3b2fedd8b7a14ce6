// The one module that talks to the Rust side. Every command, event and error goes through here.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { CertificateView } from './generated/CertificateView';
import type { CommandError } from './generated/CommandError';
import type { EditRequest } from './generated/EditRequest';
import type { FeeScheduleView } from './generated/FeeScheduleView';
import type { MissingView } from './generated/MissingView';
import type { OrderDetail } from './generated/OrderDetail';
import type { PartsView } from './generated/PartsView';
import type { PhotoRequest } from './generated/PhotoRequest';
import type { SavedRecordView } from './generated/SavedRecordView';
import type { Session } from './generated/Session';
import type { Settings } from './generated/Settings';
import type { SignInRequest } from './generated/SignInRequest';
import type { SignRequest } from './generated/SignRequest';
import type { SyncStatus } from './generated/SyncStatus';
import type { StockAfterUseView } from './generated/StockAfterUseView';
import type { StockUseRequest } from './generated/StockUseRequest';
import type { Today } from './generated/Today';

/** A refused command: `code` is stable and translated by the UI; `message` is for logs only. */
export class BackendError extends Error {
  readonly code: string;
  readonly missing: MissingView[];
  constructor(e: CommandError) {
    super(e.message);
    this.code = e.code;
    this.missing = e.missing;
  }
}

function isCommandError(e: unknown): e is CommandError {
  return typeof e === 'object' && e !== null && typeof (e as CommandError).code === 'string';
}

/** Turn whatever a rejected invoke gives into a [`BackendError`]. */
export function toBackendError(e: unknown): BackendError {
  if (e instanceof BackendError) return e;
  if (isCommandError(e)) return new BackendError({ code: e.code, message: e.message ?? '', missing: e.missing ?? [] });
  return new BackendError({ code: 'app.internal', message: String(e), missing: [] });
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toBackendError(e);
  }
}

export const backend = {
  signIn: (request: SignInRequest) => call<Session>('sign_in', { request }),
  session: () => call<Session | null>('session'),
  signOut: () => call<null>('sign_out'),
  today: () => call<Today>('today'),
  orderDetail: (orderId: string) => call<OrderDetail>('order_detail', { orderId }),
  applyEdit: (orderId: string, edit: EditRequest) => call<OrderDetail>('apply_edit', { orderId, edit }),
  addPhoto: (request: PhotoRequest) => call<OrderDetail>('add_photo', { request }),
  recordHtml: (orderId: string, language: string) => call<string>('record_html', { orderId, language }),
  saveRecordPdf: (orderId: string, language: string) =>
    call<SavedRecordView>('save_record_pdf', { orderId, language }),
  certificate: () => call<CertificateView>('certificate'),
  feeSchedule: () => call<FeeScheduleView>('fee_schedule'),
  partsAndStock: () => call<PartsView>('parts_and_stock'),
  stockAfterUse: (request: StockUseRequest) => call<StockAfterUseView>('stock_after_use', { request }),
  sign: (request: SignRequest) => call<OrderDetail>('sign', { request }),
  syncStatus: () => call<SyncStatus>('sync_status'),
  syncNow: () => call<SyncStatus>('sync_now'),
  settings: () => call<Settings>('settings'),
  setLanguage: (language: string) => call<Settings>('set_language', { language }),
  onSyncStatus: (cb: (s: SyncStatus) => void): Promise<UnlistenFn> =>
    listen<SyncStatus>('sync-status', (e) => cb(e.payload)),
  onDocumentsChanged: (cb: () => void): Promise<UnlistenFn> => listen('documents-changed', () => cb()),
};

export type Backend = typeof backend;
