// Which message names each value of a generated enum on screen. Every map is a `Record` over the
// enum generated from Rust, so a new value without a label (or a label for a value that no longer
// exists) fails `npm run check`; screens never build a message key from a string.
import type { MessageKey } from './messages';
import type { CheckResult } from './generated/CheckResult';
import type { ConfirmationView } from './generated/ConfirmationView';
import type { EffectiveStatus } from './generated/EffectiveStatus';
import type { MissingKind } from './generated/MissingKind';
import type { ServiceType } from './generated/ServiceType';
import type { SlaBadgeView } from './generated/SlaBadgeView';
import type { Step } from './generated/Step';
import type { Tier } from './generated/Tier';
// registry:
import type { Column } from './generated/Column';
import type { ImportRowStatus } from './generated/ImportRowStatus';
import type { CertificateState } from './generated/CertificateState';
import type { ConflictKind } from './generated/ConflictKind';
import type { DispatchStatusView } from './generated/DispatchStatusView';
import type { NotQualified } from './generated/NotQualified';
// profiles:
import type { CertificateActionKind } from './generated/CertificateActionKind';
// stats:
import type { Figure } from './generated/Figure';
import type { Indicator } from './generated/Indicator';
import type { IndicatorGroup } from './generated/IndicatorGroup';
import type { NotMeasurable } from './generated/NotMeasurable';
// conflicts:
import type { ResolutionAction } from './generated/ResolutionAction';
// followups:
import type { CallOutcome } from './generated/CallOutcome';
import type { Since } from './generated/Since';

export const tierLabel: Record<Tier, MessageKey> = {
  Standard: 'tier.standard',
  Gold: 'tier.gold',
  Platinum: 'tier.platinum',
};

export const serviceLabel: Record<ServiceType, MessageKey> = {
  Repair: 'service.repair',
  Installation: 'service.installation',
  Maintenance: 'service.maintenance',
};

export const statusLabel: Record<EffectiveStatus, MessageKey> = {
  unassigned: 'status.unassigned',
  assigned: 'status.assigned',
  accepted: 'status.accepted',
  en_route: 'status.en_route',
  on_site: 'status.on_site',
  in_progress: 'status.in_progress',
  work_done: 'status.work_done',
  completed: 'status.completed',
  on_hold: 'status.on_hold',
  cancelled: 'status.cancelled',
};

export const slaLabel: Record<SlaBadgeView, MessageKey> = {
  met: 'sla.met',
  on_track: 'sla.on_track',
  at_risk: 'sla.at_risk',
  breached: 'sla.breached',
};

/** The latest recorded step; `null` (nothing recorded yet) is `step.none`. */
export const stepLabel: Record<Step, MessageKey> = {
  accepted: 'step.accepted',
  en_route: 'step.en_route',
  arrived: 'step.arrived',
  work_started: 'step.work_started',
  work_done: 'step.work_done',
  signed: 'step.signed',
  reopened: 'step.reopened',
};

/** The steps the Order screen records with a button, and the button's label. */
export const actionLabel = {
  en_route: 'action.en_route',
  arrived: 'action.arrived',
  work_started: 'action.work_started',
  work_done: 'action.work_done',
} as const satisfies Partial<Record<Step, MessageKey>>;
export type ActionStep = keyof typeof actionLabel;

export const confirmLabel: Record<ConfirmationView, MessageKey> = {
  usage_explained: 'confirm.usage_explained',
  no_water: 'confirm.no_water',
  no_smoke: 'confirm.no_smoke',
  no_meal: 'confirm.no_meal',
  no_gift: 'confirm.no_gift',
};

/** One line of "what still blocks signing"; `{label}` is the item's label. */
export const missingLabel: Record<MissingKind, MessageKey> = {
  work_not_done: 'missing.work_not_done',
  item_unanswered: 'missing.item_unanswered',
  reading_out_of_range: 'missing.reading_out_of_range',
  item_invalid: 'missing.item_invalid',
  photo_missing: 'missing.photo_missing',
  home_check_missing: 'missing.home_check_missing',
  confirmation_missing: 'missing.confirmation_missing',
  rating_missing: 'missing.rating_missing',
  signature_missing: 'missing.signature_missing',
  template_missing: 'missing.template_missing',
};

export const checkResultLabel: Record<CheckResult, MessageKey> = {
  Ok: 'checklist.home_check_ok',
  NeedsService: 'checklist.home_check_needs_service',
};

// registry: the import file's columns and what importing a row does.
export const columnLabel: Record<Column, MessageKey> = {
  external_ref: 'column.external_ref',
  customer_name: 'column.customer_name',
  phone: 'column.phone',
  address: 'column.address',
  tier: 'column.tier',
  service_type: 'column.service_type',
  scheduled_date: 'column.scheduled_date',
  time_window: 'column.time_window',
  problem: 'column.problem',
  category: 'column.category',
  brand: 'column.brand',
  model: 'column.model',
  serial: 'column.serial',
  notes: 'column.notes',
};

export const importStatusLabel: Record<ImportRowStatus, MessageKey> = {
  new: 'import.status.new',
  already_imported: 'import.status.already_imported',
  invalid: 'import.status.invalid',
};

// console: the dispatcher console's enums.

export const conflictLabel: Record<ConflictKind, MessageKey> = {
  cancelled_but_completed: 'conflict.cancelled_but_completed',
  stopped_while_on_site: 'conflict.stopped_while_on_site',
  reassigned_while_on_site: 'conflict.reassigned_while_on_site',
  completed_by_previous_assignee: 'conflict.completed_by_previous_assignee',
  multiple_completions: 'conflict.multiple_completions',
  modified_after_signing: 'conflict.modified_after_signing',
};

export const notQualifiedLabel: Record<NotQualified, MessageKey> = {
  NotCovered: 'not_qualified.not_covered',
  CertificateExpired: 'not_qualified.certificate_expired',
  CertificateWithdrawn: 'not_qualified.certificate_withdrawn',
};

export const certificateLabel: Record<CertificateState, MessageKey> = {
  Valid: 'certificate.valid',
  Expired: 'certificate.expired',
  Withdrawn: 'certificate.withdrawn',
};

export const dispatchStatusLabel: Record<DispatchStatusView, MessageKey> = {
  open: 'dispatch.open',
  on_hold: 'dispatch.on_hold',
  cancelled: 'dispatch.cancelled',
};

// profiles:
export const certificateActionLabel: Record<CertificateActionKind, MessageKey> = {
  Withdrawn: 'techs.action_withdrawn',
  Reinstated: 'techs.action_reinstated',
};

// conflicts: the review queue's decisions, and a conflict in the technician's words.

export const resolutionLabel: Record<ResolutionAction, MessageKey> = {
  accept_completion: 'resolution.accept_completion',
  keep_cancelled: 'resolution.keep_cancelled',
  resume: 'resolution.resume',
  keep_stopped: 'resolution.keep_stopped',
  give_back: 'resolution.give_back',
  keep_reassignment: 'resolution.keep_reassignment',
  keep_assignee: 'resolution.keep_assignee',
  choose_completion: 'resolution.choose_completion',
  acknowledge: 'resolution.acknowledge',
};

export const orderConflictLabel: Record<ConflictKind, MessageKey> = {
  cancelled_but_completed: 'order_conflict.cancelled_but_completed',
  stopped_while_on_site: 'order_conflict.stopped_while_on_site',
  reassigned_while_on_site: 'order_conflict.reassigned_while_on_site',
  completed_by_previous_assignee: 'order_conflict.completed_by_previous_assignee',
  multiple_completions: 'order_conflict.multiple_completions',
  modified_after_signing: 'order_conflict.modified_after_signing',
};

// followups: a follow-up call's answer, and what a reminder's interval counts from.
export const callOutcomeLabel: Record<CallOutcome, MessageKey> = {
  Satisfied: 'followups.satisfied',
  Complaint: 'followups.complaint',
  NoAnswer: 'followups.no_answer',
};

export const sinceLabel: Record<Since, MessageKey> = {
  LastService: 'reminders.since_service',
  Purchase: 'reminders.since_purchase',
};

// stats: the Statistics and Scorecard screens.
export const figureLabel: Record<Figure, MessageKey> = {
  completed: 'figure.completed',
  first_time_fix_rate: 'figure.first_time_fix_rate',
  repeat_repair_rate: 'figure.repeat_repair_rate',
  average_stars: 'figure.average_stars',
  five_star_share: 'figure.five_star_share',
  response_met_rate: 'figure.response_met_rate',
  arrival_met_rate: 'figure.arrival_met_rate',
  commitment_kept_rate: 'figure.commitment_kept_rate',
  average_response_minutes: 'figure.average_response_minutes',
  average_minutes_on_site: 'figure.average_minutes_on_site',
  parts_used: 'figure.parts_used',
  parts_cost_cents: 'figure.parts_cost_cents',
  fees_collected_cents: 'figure.fees_collected_cents',
};

export const indicatorLabel: Record<Indicator, MessageKey> = {
  ServiceCommitmentKept: 'indicator.service_commitment_kept',
  ResponseTime: 'indicator.response_time',
  OnSiteStandard: 'indicator.on_site_standard',
  CustomerSatisfaction: 'indicator.customer_satisfaction',
  ComplaintHandling: 'indicator.complaint_handling',
  RepeatRepairs: 'indicator.repeat_repairs',
  Organisation: 'indicator.organisation',
  Staffing: 'indicator.staffing',
  Resources: 'indicator.resources',
  PartsSupply: 'indicator.parts_supply',
  WarrantyHandling: 'indicator.warranty_handling',
};

export const indicatorGroupLabel: Record<IndicatorGroup, MessageKey> = {
  ServiceSystem: 'indicator_group.service_system',
  ProductService: 'indicator_group.product_service',
  CustomerService: 'indicator_group.customer_service',
};

export const notMeasurableLabel: Record<NotMeasurable, MessageKey> = {
  NoComplaintRecords: 'not_measurable.no_complaint_records',
  OutsideServiceRecords: 'not_measurable.outside_service_records',
};
