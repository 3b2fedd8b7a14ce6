// The one module that talks to the Rust side. Every command, event and error goes through here.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { CertificateView } from './generated/CertificateView';
import { isCode } from './errors';
import type { Code } from './generated/Code';
import type { CommandError } from './generated/CommandError';
import type { FieldRef } from './generated/FieldRef';
import type { DraftField } from './generated/DraftField';
import type { DraftRequest } from './generated/DraftRequest';
import type { DraftView } from './generated/DraftView';
import type { HandoverLock } from './generated/HandoverLock';
import type { OrderList } from './generated/OrderList';
import type { SignInForm } from './generated/SignInForm';
import type { SignOutView } from './generated/SignOutView';
import type { EditRequest } from './generated/EditRequest';
import type { EventName } from './generated/EventName';
import type { FeeScheduleView } from './generated/FeeScheduleView';
import type { MissingView } from './generated/MissingView';
import type { OrderDetail } from './generated/OrderDetail';
import type { PartsView } from './generated/PartsView';
import type { PhotoRequest } from './generated/PhotoRequest';
import type { SavedRecordView } from './generated/SavedRecordView';
import type { ExportRequest } from './generated/ExportRequest';
import type { SavedExportView } from './generated/SavedExportView';
import type { Session } from './generated/Session';
import type { Settings } from './generated/Settings';
import type { SignInRequest } from './generated/SignInRequest';
import type { SignRequest } from './generated/SignRequest';
import type { SyncStatus } from './generated/SyncStatus';
import type { StockAfterUseView } from './generated/StockAfterUseView';
import type { StockUseRequest } from './generated/StockUseRequest';
import type { Today } from './generated/Today';
import type { FetchedView } from './generated/FetchedView';
import type { HistorySearchRequest } from './generated/HistorySearchRequest';
import type { HistorySearchView } from './generated/HistorySearchView';
import type { HistoryWindowView } from './generated/HistoryWindowView';
// dispatch: parts issue and return
import type { FaultyReturnRequest } from './generated/FaultyReturnRequest';
import type { StockMoveRequest } from './generated/StockMoveRequest';
import type { StockOverview } from './generated/StockOverview';
import type { TechnicianStockView } from './generated/TechnicianStockView';
// stats:
import type { BonusFormulaRequest } from './generated/BonusFormulaRequest';
import type { BonusFormulaView } from './generated/BonusFormulaView';
import type { ScorecardView } from './generated/ScorecardView';
import type { StatisticsView } from './generated/StatisticsView';
import type { StatsExportRequest } from './generated/StatsExportRequest';
import type { StatsRequest } from './generated/StatsRequest';
// profiles:
import type { CertificateActionRequest } from './generated/CertificateActionRequest';
import type { ProfileEditRequest } from './generated/ProfileEditRequest';
import type { TechniciansView } from './generated/TechniciansView';
// registry:
import type { ApplianceRequest } from './generated/ApplianceRequest';
import type { ContactRequest } from './generated/ContactRequest';
import type { CustomerSearch } from './generated/CustomerSearch';
import type { HouseholdView } from './generated/HouseholdView';
import type { ImportCommitRequest } from './generated/ImportCommitRequest';
import type { ImportPreview } from './generated/ImportPreview';
import type { ImportResult } from './generated/ImportResult';
import type { ImportSource } from './generated/ImportSource';
// followups:
import type { FollowUpAnswerRequest } from './generated/FollowUpAnswerRequest';
import type { FollowUpsView } from './generated/FollowUpsView';
import type { ReminderActionRequest } from './generated/ReminderActionRequest';
import type { RemindersView } from './generated/RemindersView';
import type { ServiceSettingsRequest } from './generated/ServiceSettingsRequest';
import type { ServiceSettingsView } from './generated/ServiceSettingsView';
import type { ResolveComplaintRequest } from './generated/ResolveComplaintRequest';
// conflicts:
import type { ConflictQueueView } from './generated/ConflictQueueView';
import type { ResolveConflictRequest } from './generated/ResolveConflictRequest';
// console: the dispatcher console's types.
import type { BoardView } from './generated/BoardView';
import type { CompletionList } from './generated/CompletionList';
import type { CompletionView } from './generated/CompletionView';
import type { CustomerMatch } from './generated/CustomerMatch';
import type { DispatchOrderView } from './generated/DispatchOrderView';
import type { EditOrderRequest } from './generated/EditOrderRequest';
import type { NewOrderRequest } from './generated/NewOrderRequest';
import type { PickerView } from './generated/PickerView';
import type { SlaPreview } from './generated/SlaPreview';
import type { Tier } from './generated/Tier';

/** A refused command: `code` is stable and translated by the UI; `message` is for logs only. */
export class BackendError extends Error {
  readonly code: Code;
  readonly missing: MissingView[];
  /** registry: the form field the refusal concerns. */
  readonly field: FieldRef | null;
  constructor(e: CommandError) {
    super(e.message);
    this.code = e.code;
    this.missing = e.missing;
    this.field = e.field;
  }
}

function isCommandError(e: unknown): e is CommandError {
  return typeof e === 'object' && e !== null && typeof (e as CommandError).code === 'string';
}

/** Turn whatever a rejected invoke gives into a [`BackendError`]; a code this build does not know
 * (never sent by the Rust it ships with) becomes `unknown`, like Rust reads one from a newer relay. */
export function toBackendError(e: unknown): BackendError {
  if (e instanceof BackendError) return e;
  if (isCommandError(e)) {
    const code = isCode(e.code) ? e.code : 'unknown';
    return new BackendError({ code, message: e.message ?? '', missing: e.missing ?? [], field: e.field ?? null });
  }
  return new BackendError({ code: 'app.internal', message: String(e), missing: [], field: null });
}

/** Listen to an event the app emits; `name` is one of the generated `EventName`s. */
function on<T>(name: EventName, cb: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(name, (e) => cb(e.payload));
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
  signInForm: () => call<SignInForm>('sign_in_form'),
  signOut: () => call<SignOutView>('sign_out'),
  today: () => call<Today>('today'),
  upcoming: () => call<OrderList>('upcoming'),
  searchOrders: (query: string) => call<OrderList>('search_orders', { query }),
  saveDraft: (request: DraftRequest) => call<null>('save_draft', { request }),
  drafts: (orderId: string) => call<DraftView[]>('drafts', { orderId }),
  discardDraft: (orderId: string, field: DraftField) => call<null>('discard_draft', { orderId, field }),
  handoverLock: () => call<HandoverLock>('handover_lock'),
  lockHandover: (orderId: string) => call<HandoverLock>('lock_handover', { orderId }),
  unlockHandover: () => call<HandoverLock>('unlock_handover'),
  orderDetail: (orderId: string) => call<OrderDetail>('order_detail', { orderId }),
  applyEdit: (orderId: string, edit: EditRequest) => call<OrderDetail>('apply_edit', { orderId, edit }),
  addPhoto: (request: PhotoRequest) => call<OrderDetail>('add_photo', { request }),
  /** The signed record of `orderId`: the technician's own (no `technicianId`), or the one the
   * technician `technicianId` signed (the console). */
  recordHtml: (orderId: string, language: string, technicianId?: string) =>
    call<string>('record_html', { orderId, language, technicianId }),
  saveRecordPdf: (orderId: string, language: string, technicianId?: string) =>
    call<SavedRecordView>('save_record_pdf', { orderId, language, technicianId }),
  /** Save a console table as CSV or XLSX in the export folder. */
  exportTable: (request: ExportRequest) => call<SavedExportView>('export_table', { request }),
  certificate: () => call<CertificateView>('certificate'),
  feeSchedule: () => call<FeeScheduleView>('fee_schedule'),
  partsAndStock: () => call<PartsView>('parts_and_stock'),
  stockAfterUse: (request: StockUseRequest) => call<StockAfterUseView>('stock_after_use', { request }),
  sign: (request: SignRequest) => call<OrderDetail>('sign', { request }),
  syncStatus: () => call<SyncStatus>('sync_status'),
  syncNow: () => call<SyncStatus>('sync_now'),
  settings: () => call<Settings>('settings'),
  setLanguage: (language: string) => call<Settings>('set_language', { language }),
  // dispatch: parts issue and return (the dispatcher's side)
  issueParts: (request: StockMoveRequest) => call<TechnicianStockView>('issue_parts', { request }),
  returnParts: (request: StockMoveRequest) => call<TechnicianStockView>('return_parts', { request }),
  adjustStock: (request: StockMoveRequest) => call<TechnicianStockView>('adjust_stock', { request }),
  returnFaultyPart: (request: FaultyReturnRequest) =>
    call<TechnicianStockView>('return_faulty_part', { request }),
  technicianStock: (technicianId: string) => call<TechnicianStockView>('technician_stock', { technicianId }),
  stockOverview: () => call<StockOverview>('stock_overview'),
  // registry: the customer registry and the CSV order import (dispatcher console).
  searchCustomers: (query: string) => call<CustomerSearch>('search_customers', { query }),
  household: (householdId: string) => call<HouseholdView>('household', { householdId }),
  // Partial replicas: the relay's whole history, older jobs brought onto the device on demand.
  searchHistory: (request: HistorySearchRequest) => call<HistorySearchView>('search_history', { request }),
  fetchHistory: (docs: string[]) => call<FetchedView>('fetch_history', { docs }),
  historyWindow: () => call<HistoryWindowView>('history_window'),
  setHistoryWindow: (days: number) => call<HistoryWindowView>('set_history_window', { days }),
  createHousehold: (request: ContactRequest) => call<HouseholdView>('create_household', { request }),
  updateHousehold: (householdId: string, request: ContactRequest) =>
    call<HouseholdView>('update_household', { householdId, request }),
  saveAppliance: (householdId: string, request: ApplianceRequest) =>
    call<HouseholdView>('save_appliance', { householdId, request }),
  importPreview: (source: ImportSource) => call<ImportPreview>('import_preview', { source }),
  importCommit: (request: ImportCommitRequest) => call<ImportResult>('import_commit', { request }),
  onSyncStatus: (cb: (s: SyncStatus) => void): Promise<UnlistenFn> => on<SyncStatus>('sync-status', cb),
  onDocumentsChanged: (cb: () => void): Promise<UnlistenFn> => on<null>('documents-changed', () => cb()),
  // console: the dispatcher console.
  board: (offsetDays: number) => call<BoardView>('board', { offsetDays }),
  slaPreview: (tier: Tier) => call<SlaPreview>('sla_preview', { tier }),
  findCustomers: (query: string) => call<CustomerMatch[]>('find_customers', { query }),
  createOrder: (request: NewOrderRequest) => call<DispatchOrderView>('create_order', { request }),
  editOrder: (request: EditOrderRequest) => call<DispatchOrderView>('edit_order', { request }),
  dispatchOrder: (orderId: string) => call<DispatchOrderView>('dispatch_order', { orderId }),
  holdOrder: (orderId: string, reason: string) => call<DispatchOrderView>('hold_order', { orderId, reason }),
  cancelOrder: (orderId: string, reason: string) => call<DispatchOrderView>('cancel_order', { orderId, reason }),
  reopenOrder: (orderId: string, reason: string) => call<DispatchOrderView>('reopen_order', { orderId, reason }),
  assignOrder: (orderId: string, technicianId: string) =>
    call<DispatchOrderView>('assign_order', { orderId, technicianId }),
  reassignOrder: (orderId: string, technicianId: string, reason: string) =>
    call<DispatchOrderView>('reassign_order', { orderId, technicianId, reason }),
  assignmentPicker: (orderId: string) => call<PickerView>('assignment_picker', { orderId }),
  // conflicts: the review queue and the dispatcher's decisions.
  conflicts: () => call<ConflictQueueView>('conflicts'),
  resolveConflict: (request: ResolveConflictRequest) => call<ConflictQueueView>('resolve_conflict', { request }),
  completions: () => call<CompletionList>('completions'),
  onOrderCompleted: (cb: (c: CompletionView) => void): Promise<UnlistenFn> =>
    on<CompletionView>('order-completed', cb),
  // profiles: the console's Technicians screen.
  technicians: () => call<TechniciansView>('technicians'),
  saveProfile: (request: ProfileEditRequest) => call<TechniciansView>('save_profile', { request }),
  withdrawCertificate: (request: CertificateActionRequest) =>
    call<TechniciansView>('withdraw_certificate', { request }),
  reinstateCertificate: (request: CertificateActionRequest) =>
    call<TechniciansView>('reinstate_certificate', { request }),
  // followups: follow-up calls (回访), complaints and maintenance reminders.
  followUps: () => call<FollowUpsView>('follow_ups'),
  recordFollowUp: (request: FollowUpAnswerRequest) => call<FollowUpsView>('record_follow_up', { request }),
  resolveComplaint: (request: ResolveComplaintRequest) => call<FollowUpsView>('resolve_complaint', { request }),
  reminders: () => call<RemindersView>('reminders'),
  orderFromReminder: (request: ReminderActionRequest) =>
    call<DispatchOrderView>('order_from_reminder', { request }),
  dismissReminder: (request: ReminderActionRequest) => call<RemindersView>('dismiss_reminder', { request }),
  serviceSettings: () => call<ServiceSettingsView>('service_settings'),
  saveServiceSettings: (request: ServiceSettingsRequest) =>
    call<ServiceSettingsView>('save_service_settings', { request }),
  // stats: the console's Statistics and Scorecard screens.
  statistics: (request: StatsRequest) => call<StatisticsView>('statistics', { request }),
  scorecard: (request: StatsRequest) => call<ScorecardView>('scorecard', { request }),
  saveBonusFormula: (request: BonusFormulaRequest) => call<BonusFormulaView>('save_bonus_formula', { request }),
  exportStatistics: (request: StatsExportRequest) => call<SavedExportView>('export_statistics', { request }),
};

export type Backend = typeof backend;
