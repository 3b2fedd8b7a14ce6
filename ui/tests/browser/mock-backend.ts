// A test double of the Rust commands for browser tests, installed with `mockIPC` before the built
// UI loads. It computes nothing: it replays the answers the real app gave when the Rust test
// `crates/onsite-app/tests/fixtures.rs` drove the same scenario (`ui/tests/fixtures/<script>.json`,
// chosen with `window.__fixture`), so a browser test can only pass on rules the product has.
//
// Replay: commands that change something (`MUTATIONS`) must come in the recorded order, each
// answered with its recorded answer (refusals included). Any other command is a query, answered
// with the newest answer recorded for the same command and arguments before the next recorded
// change; `order_detail` also takes the newest order detail an edit of that order answered with
// (the app answers every edit with the order detail). Arguments are compared as JSON with sorted
// keys; the photo and signature bytes and the typed relay address are not compared. A call the
// recording does not have is listed in `__mock.failures` (the browser tests require it empty)
// and refused with `app.internal`. The position in the recording is kept in sessionStorage, so a
// page reload is an app restart that goes on with the same recording (as the Rust script does).
import { mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import type { CommandError } from '../../src/lib/generated/CommandError';
import type { OrderDetail } from '../../src/lib/generated/OrderDetail';
import type { SyncStatus } from '../../src/lib/generated/SyncStatus';
import wholeJob from '../fixtures/whole-job.json';
import incompleteSign from '../fixtures/incomplete-sign.json';
import language from '../fixtures/language.json';
import offline from '../fixtures/offline.json';
import handoverLock from '../fixtures/handover-lock.json';
import drafts from '../fixtures/drafts.json';
import listsAndSignOut from '../fixtures/lists-and-sign-out.json';
import consoleScript from '../fixtures/console.json';
import conflictsScript from '../fixtures/conflicts.json';
import conflictsTechnician from '../fixtures/conflicts-technician.json';
// followups:
import followupsScript from '../fixtures/followups.json';
import serviceSettingsScript from '../fixtures/service-settings.json';
// stats:
import statistics from '../fixtures/statistics.json';

type Exchange = { cmd: string; args: Record<string, unknown>; ok?: unknown; err?: CommandError };
type Fixture = { script: string; exchanges: Exchange[] };

const fixtures: Record<string, Fixture> = {};
for (const f of [wholeJob, incompleteSign, language, offline, handoverLock, drafts, listsAndSignOut, consoleScript, conflictsScript, conflictsTechnician, followupsScript, serviceSettingsScript, statistics] as Fixture[]) {
  fixtures[f.script] = f;
}

const MUTATIONS = new Set([
  'sign_in',
  'sign_out',
  'set_language',
  'apply_edit',
  'add_photo',
  'sign',
  'save_draft',
  'discard_draft',
  'lock_handover',
  'unlock_handover',
  // the dispatcher's console
  'create_order',
  'edit_order',
  'assign_order',
  'reassign_order',
  'hold_order',
  'cancel_order',
  'reopen_order',
  'create_household',
  'update_household',
  'save_appliance',
  'import_commit',
  'issue_parts',
  'return_parts',
  'adjust_stock',
  'return_faulty_part',
  // profiles: the Technicians screen
  'save_profile',
  'withdraw_certificate',
  'reinstate_certificate',
  // conflicts:
  'resolve_conflict',
  // followups:
  'record_follow_up',
  'resolve_complaint',
  'order_from_reminder',
  'dismiss_reminder',
  'save_service_settings',
  // stats: the bonus formula
  'save_bonus_formula',
]);
/** Arguments that are not part of a key: bytes drawn or generated in the browser, the relay typed. */
const UNKEYED = new Set(['bytes_base64', 'png_base64', 'relay_url']);

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (!UNKEYED.has(k)) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
const key = (cmd: string, args: Record<string, unknown>) => `${cmd} ${JSON.stringify(canonical(args))}`;

const name = (window as unknown as { __fixture?: string }).__fixture ?? 'whole-job';
const fixture = fixtures[name];
const keyed = fixture.exchanges.map((e) => ({ ...e, key: key(e.cmd, e.args) }));

const state = {
  fixture: name,
  /** Index of the next recorded change. */
  next: 0,
  language: null as string | null,
  online: true,
  pending: 0,
  failures: [] as string[],
  calls: [] as string[],
  /** Keys of the recorded changes replayed so far, in order. */
  replayed: [] as string[],
};

function nextMutation(from: number): number {
  let i = from;
  while (i < keyed.length && !MUTATIONS.has(keyed[i].cmd)) i++;
  return i;
}
state.next = nextMutation(0);

/** Survives a reload (an app restart); the failures and calls of a page stay with that page. */
const KEPT = `__mock:${name}`;
const kept = sessionStorage.getItem(KEPT);
const restarted = kept !== null;
if (kept) Object.assign(state, JSON.parse(kept));
function keep() {
  const { next, language, online, pending, replayed } = state;
  sessionStorage.setItem(KEPT, JSON.stringify({ next, language, online, pending, replayed }));
}

function fail(why: string): never {
  state.failures.push(why);
  throw { code: 'app.internal', message: why, missing: [], field: null } satisfies CommandError;
}

function answer(e: Exchange): unknown {
  if (e.err) throw e.err;
  return structuredClone(e.ok);
}

function isDetailOf(e: Exchange, orderId: string): boolean {
  const d = e.ok as OrderDetail | undefined;
  return d !== undefined && typeof d === 'object' && d !== null && 'card' in d && d.card.order_id === orderId;
}

function replay(cmd: string, args: Record<string, unknown>): unknown {
  const k = key(cmd, args);
  if (MUTATIONS.has(cmd)) {
    const e = keyed[state.next];
    if (!e || e.key !== k) fail(`out of step with ${name}.json: got ${k}, recorded next ${e?.key ?? 'nothing'}`);
    state.next = nextMutation(state.next + 1);
    state.replayed.push(k);
    if (cmd === 'set_language' && e.ok) state.language = (e.ok as { language: string | null }).language;
    if (!e.err && state.online === false && ['apply_edit', 'add_photo', 'sign'].includes(cmd)) {
      state.pending += 1;
      void emit('sync-status', status());
    }
    keep();
    return answer(e);
  }
  for (let i = state.next - 1; i >= 0; i--) {
    const e = keyed[i];
    if (e.key === k) return cmd === 'sync_status' ? { ...(answer(e) as SyncStatus), ...live() } : answer(e);
    if (cmd === 'order_detail' && !e.err && isDetailOf(e, args.orderId as string)) return answer(e);
  }
  return fail(`${name}.json has no answer for ${k} before change ${state.next}`);
}

/** What the test driver changed about the network (the sync task's events are simulated). */
function live(): Partial<SyncStatus> {
  return state.online ? {} : { online: false, pending_changes: state.pending };
}
function status(): SyncStatus {
  const recorded = keyed.slice(0, state.next).reverse().find((e) => e.cmd === 'sync_status')?.ok as SyncStatus;
  return { ...recorded, ...live() };
}

mockIPC(
  (cmd, args) => {
    state.calls.push(cmd);
    return replay(cmd, (args ?? {}) as Record<string, unknown>);
  },
  { shouldMockEvents: true },
);

/** Controls for the test driver. */
(window as unknown as { __mock: unknown }).__mock = {
  state,
  setOnline(online: boolean) {
    state.online = online;
    keep();
    void emit('sync-status', status());
  },
  /** Start as if the recorded sign-in had happened on an earlier run (not again after a reload). */
  signedIn() {
    if (restarted) return;
    const at = keyed.findIndex((e) => e.cmd === 'sign_in' && !e.err);
    state.next = nextMutation(at + 1);
    keep();
  },
  /** Whether a recorded change whose key contains every one of `parts` was replayed. */
  replayed(...parts: string[]): boolean {
    return state.replayed.some((k) => parts.every((p) => k.includes(p)));
  },
};
