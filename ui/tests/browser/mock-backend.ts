// A test double of the Rust commands for browser tests: installed with `mockIPC` before the built
// UI loads. It keeps a small in-memory job so the whole flow can be driven; the real rules are
// tested in Rust (onsite-domain, onsite-app, src-tauri).
import { mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import type { OrderDetail } from '../../src/lib/generated/OrderDetail';
import type { OrderCard } from '../../src/lib/generated/OrderCard';
import type { ItemView } from '../../src/lib/generated/ItemView';
import type { ItemKindView } from '../../src/lib/generated/ItemKindView';
import type { EditRequest } from '../../src/lib/generated/EditRequest';
import type { MissingView } from '../../src/lib/generated/MissingView';
import type { SyncStatus } from '../../src/lib/generated/SyncStatus';
import type { Step } from '../../src/lib/generated/Step';
import type { CommandError } from '../../src/lib/generated/CommandError';
import type { Code } from '../../src/lib/generated/Code';
import type { MissingKind } from '../../src/lib/generated/MissingKind';
import type { FeeScheduleView } from '../../src/lib/generated/FeeScheduleView';
import type { PartsView } from '../../src/lib/generated/PartsView';
import type { CertificateView } from '../../src/lib/generated/CertificateView';
import type { PhotoRule } from '../../src/lib/generated/PhotoRule';

const HOUR = 3_600_000;
const now = Date.UTC(2026, 10, 30, 2, 0, 0);
const dayStart = Date.UTC(2026, 10, 30, 0, 0, 0) - 8 * HOUR;

class Refusal {
  constructor(readonly body: CommandError) {}
}
const refuse = (code: Code, missing: MissingView[] = []): never => {
  throw new Refusal({ code, message: code, missing });
};

type T = [id: string, group: string, zh: string, en: string, kind: ItemKindView, required: boolean, photo: PhotoRule];
const tick: ItemKindView = { type: 'tick' };
const templates: Record<string, { zh: string; en: string; items: T[] }> = {
  'haier-12345': {
    zh: '星级服务标准：一证件·二公开·三到位·四不准·五个一',
    en: "Star service standard: 1 certificate · 2 public · 3 in place · 4 don'ts · 5 ones",
    items: [
      ['cert.shown', 'one-certificate', '上门服务时出示“星级服务资格证”', 'Show the star-service qualification certificate on arrival', { type: 'evidence' }, true, 'none'],
      ['fees.published', 'two-public', '公开出示统一收费标准', 'Show the unified fee schedule to the customer', { type: 'evidence' }, true, 'none'],
      ['record.signed', 'two-public', '公开一票到底的服务记录单，服务完毕后请用户签署意见', "One-ticket service record, signed with the customer's comments when done", { type: 'signed_record' }, true, 'none'],
      ['site.cleaned', 'three-in-place', '服务后清理现场到位', 'Site cleaned up after service', tick, true, 'optional'],
      ['power.tested', 'three-in-place', '服务后通电试机演示到位', 'Power-on test run demonstrated after service', { type: 'pass_fail' }, true, 'optional'],
      ['usage.explained', 'three-in-place', '服务后向用户讲解使用知识到位', 'Usage and care explained to the customer', { type: 'customer_confirm', confirmation: 'usage_explained' }, true, 'none'],
      ['no.water', 'four-donts', '不喝用户的水', "Did not drink the customer's water", { type: 'customer_confirm', confirmation: 'no_water' }, true, 'none'],
      ['no.smoke', 'four-donts', '不抽用户的烟', "Did not smoke the customer's cigarettes", { type: 'customer_confirm', confirmation: 'no_smoke' }, true, 'none'],
      ['no.meal', 'four-donts', '不吃用户的饭', "Did not eat the customer's food", { type: 'customer_confirm', confirmation: 'no_meal' }, true, 'none'],
      ['no.gift', 'four-donts', '不要用户的礼品', 'Accepted no gifts from the customer', { type: 'customer_confirm', confirmation: 'no_gift' }, true, 'none'],
      ['card.given', 'five-ones', '递上一张名片', 'Handed over a business card', tick, true, 'none'],
      ['shoe.covers', 'five-ones', '穿上一副鞋套', 'Wore a pair of shoe covers', tick, true, 'optional'],
      ['mat.laid', 'five-ones', '配备一块垫布', 'Laid down a mat cloth for tools and parts', tick, true, 'optional'],
      ['cloth.brought', 'five-ones', '自带一块抹布', 'Brought own wiping cloth', tick, true, 'none'],
      ['home.check', 'five-ones', '提供一站式产品通检服务', "One-stop check of the household's other appliances", { type: 'home_check' }, true, 'none'],
    ],
  },
  repair: {
    zh: '维修作业规范',
    en: 'Repair procedure',
    items: [
      ['repair.symptom', 'diagnosis', '确认故障现象', 'Fault symptom confirmed', tick, true, 'none'],
      ['repair.fault_photo', 'diagnosis', '拍摄故障部位', 'Photo of the faulty part', tick, true, 'required'],
      ['repair.supply_voltage', 'measurement', '电源电压', 'Supply voltage', { type: 'reading', unit: 'V', min: 198, max: 242 }, true, 'none'],
      ['repair.insulation', 'measurement', '绝缘电阻', 'Insulation resistance', { type: 'reading', unit: 'MΩ', min: 2, max: 10000 }, true, 'none'],
      ['repair.refrigerant_pressure', 'measurement', '冷媒低压压力', 'Refrigerant low-side pressure', { type: 'reading', unit: 'MPa', min: 0.4, max: 1.2 }, false, 'none'],
      ['repair.part_replaced', 'repair', '更换故障配件', 'Faulty part replaced', tick, true, 'optional'],
      ['repair.run_test', 'verification', '修复后运行测试', 'Run test after repair', { type: 'pass_fail' }, true, 'none'],
    ],
  },
};

const cards: OrderCard[] = [
  { order_id: 'o-00002', order_no: 'WO-00002', customer_name: '王芳', address: '上海市静安区南京西路 1500 弄 12 号', tier: 'Platinum', service_type: 'Maintenance', window_start_ms: dayStart + 13 * HOUR, window_end_ms: dayStart + 15 * HOUR, status: 'assigned', sla: 'at_risk', problem: '空调年度清洗保养 / Yearly AC cleaning and care' },
  { order_id: 'o-00000', order_no: 'WO-00000', customer_name: '张伟', address: '上海市浦东新区世纪大道 100 号 1 单元 1201', tier: 'Gold', service_type: 'Repair', window_start_ms: dayStart + 9 * HOUR, window_end_ms: dayStart + 11 * HOUR, status: 'assigned', sla: 'on_track', problem: '空调不制冷，室外机不启动 / AC not cooling, outdoor unit does not start' },
  { order_id: 'o-00004', order_no: 'WO-00004', customer_name: '张伟', address: '上海市浦东新区世纪大道 100 号 1 单元 1201', tier: 'Gold', service_type: 'Installation', window_start_ms: dayStart + 17 * HOUR, window_end_ms: dayStart + 19 * HOUR, status: 'assigned', sla: 'breached', problem: '新购空调安装 / Install newly bought air-conditioner' },
];

function newDetail(card: OrderCard): OrderDetail {
  const tids = ['haier-12345', 'repair'];
  return {
    card: { ...card },
    phone: '13800000001',
    notes: '单元门密码 1234# / Door code 1234#',
    preferences: ['客户为回族，请勿携带猪肉制品入户 / Muslim household: no pork products inside'],
    dispatcher_notes: '',
    appliances: [
      { id: 'ap-0', category: 'air-conditioner', brand: 'Haier', model: 'KFR-35GW/03', serial: 'SN4200000000', warranty_until_ms: dayStart + 730 * 24 * HOUR, in_warranty: true, this_order: true, past_visits: [{ order_no: 'WO-00004', appliance_id: 'ap-0', service_type: 'Installation', problem: '新购空调安装 / Install newly bought air-conditioner', status: 'completed', created_at_ms: dayStart - 300 * 24 * HOUR }] },
      { id: 'ap-0-fridge', category: 'fridge', brand: 'Haier', model: 'BCD-470WDPG', serial: 'SF5100000000', warranty_until_ms: dayStart - 365 * 24 * HOUR, in_warranty: false, this_order: false, past_visits: [] },
    ],
    step: null,
    checklists: tids.map((tid) => ({
      template_id: tid, version: 1, title_zh_cn: templates[tid].zh, title_en: templates[tid].en, required_total: 0, required_done: 0,
      items: templates[tid].items.map(([id, group, zh, en, kind, required, photo]): ItemView => ({
        id, group, label_zh_cn: zh, label_en: en, kind, required, photo, answer: null,
        technician_answers: kind.type !== 'customer_confirm' && kind.type !== 'signed_record', missing: false,
      })),
    })),
    parts: [], fees: [], diagnosis: '', work_performed: '', home_checks: [],
    confirmations: (['usage_explained', 'no_water', 'no_smoke', 'no_meal', 'no_gift'] as const).map((c) => ({ confirmation: c, value: false })),
    rating: null, missing: [], signed: null, fees_total_cents: 0, parts_total_cents: 0, pending_sync: false,
  };
}

/** Recompute the missing list and item flags (a simplified copy of the domain's completion rules). */
function refresh(d: OrderDetail): OrderDetail {
  const missing: MissingView[] = [];
  if (d.step !== 'work_done' && d.signed === null) missing.push({ code: 'work_not_done', template_id: null, item_id: null, label_zh_cn: null, label_en: null });
  for (const c of d.checklists) {
    for (const it of c.items) {
      const mv = (code: MissingKind): MissingView => ({ code, template_id: c.template_id, item_id: it.id, label_zh_cn: it.label_zh_cn, label_en: it.label_en });
      let m: MissingView | null = null;
      if (it.kind.type === 'signed_record') m = null;
      else if (it.kind.type === 'customer_confirm') {
        const conf = it.kind.confirmation;
        if (!d.confirmations.find((x) => x.confirmation === conf)?.value) m = { ...mv('confirmation_missing'), template_id: null };
      } else if (!it.answer) m = it.required ? mv('item_unanswered') : null;
      else if (it.kind.type === 'home_check' && it.answer.outcome.type === 'done' && d.home_checks.length === 0) m = { code: 'home_check_missing', template_id: null, item_id: null, label_zh_cn: null, label_en: null };
      else if (it.photo === 'required' && it.answer.outcome.type !== 'not_applicable' && it.answer.photos.length === 0) m = mv('photo_missing');
      it.missing = m !== null;
      if (m) missing.push(m);
    }
    const counted = c.items.filter((i) => i.required && i.technician_answers);
    c.required_total = counted.length;
    c.required_done = counted.filter((i) => !i.missing).length;
  }
  if (!d.rating) missing.push({ code: 'rating_missing', template_id: null, item_id: null, label_zh_cn: null, label_en: null });
  d.missing = d.signed ? [] : missing;
  d.fees_total_cents = d.fees.reduce((s, f) => s + f.qty * f.unit_price_cents, 0);
  d.parts_total_cents = d.parts.reduce((s, p) => s + p.qty * p.unit_price_cents, 0);
  return d;
}

const fees: FeeScheduleView = {
  version: 1, currency: 'CNY', effective_from_ms: dayStart - 365 * 24 * HOUR,
  items: [
    ['visit', '上门服务费', 'Call-out fee', '服务费', 'Service', 3000, '次', 'visit'],
    ['visit.warranty', '保内上门服务费', 'Call-out fee (in warranty)', '服务费', 'Service', 0, '次', 'visit'],
    ['labour.repair.minor', '小修工时费', 'Minor repair labour', '工时费', 'Labour', 5000, '项', 'job'],
    ['labour.repair.major', '大修工时费', 'Major repair labour', '工时费', 'Labour', 12000, '项', 'job'],
    ['refrigerant.r32', '加注冷媒 R32', 'Refrigerant top-up R32', '材料费', 'Materials', 6000, '次', 'fill'],
  ].map(([code, lz, le, cz, ce, cents, uz, ue]) => ({
    code: code as string, label_zh_cn: lz as string, label_en: le as string, category_zh_cn: cz as string, category_en: ce as string,
    unit_zh_cn: uz as string, unit_en: ue as string, unit_price_cents: cents as number,
  })),
};

const parts: PartsView = {
  parts: [
    { part_no: 'AC-CAP-35UF', name_zh_cn: '压缩机启动电容 35μF', name_en: 'Compressor run capacitor 35 µF', unit_price_cents: 4500, serialised: false, on_hand: 4 },
    { part_no: 'GEN-FUSE-10A', name_zh_cn: '保险管 10A', name_en: 'Fuse 10 A', unit_price_cents: 300, serialised: false, on_hand: 10 },
    { part_no: 'AC-PCB-KFR35', name_zh_cn: '室内机主板 KFR-35GW', name_en: 'Indoor control board KFR-35GW', unit_price_cents: 28000, serialised: true, on_hand: 0 },
  ],
};

const QR = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 21 21"><rect width="21" height="21" fill="#fff"/><path d="M1 1h7v7H1zM13 1h7v7h-7zM1 13h7v7H1zM10 10h2v2h-2z" fill="#000"/></svg>';
const cert: CertificateView = {
  technician_id: 'tech.a', name: '张师傅 Zhang', phone: '13900000001', certificate_id: 'CERT-HA-0001', stars: 5,
  expires_ms: dayStart + 365 * 24 * HOUR, valid: true, qr_text: 'ONSITE-CERT:CERT-HA-0001|tech.a|张师傅 Zhang|5', qr_svg: QR,
};

const state = {
  session: null as null | { technician_id: string; technician_name: string; relay_url: string; device_id: string },
  language: null as string | null,
  sync: { online: true, pending_changes: 0, last_synced_ms: now - 5 * 60_000, progress: null, last_error: null } as SyncStatus,
  details: new Map<string, OrderDetail>(),
  calls: [] as string[],
};

function detailOf(id: string): OrderDetail {
  const card = cards.find((c) => c.order_id === id) ?? refuse('order.not_found');
  if (!state.details.has(id)) state.details.set(id, refresh(newDetail(card)));
  return state.details.get(id)!;
}

const order: Step[] = ['accepted', 'en_route', 'arrived', 'work_started', 'work_done', 'signed'];
let nextId = 1;

function touched(d: OrderDetail) {
  if (!state.sync.online) {
    state.sync = { ...state.sync, pending_changes: state.sync.pending_changes + 1 };
    d.pending_sync = true;
    void emit('sync-status', state.sync);
  }
}

function applyEdit(d: OrderDetail, e: EditRequest) {
  if (d.signed) refuse('record.frozen');
  const item = (tid: string, iid: string) => d.checklists.find((c) => c.template_id === tid)?.items.find((i) => i.id === iid) ?? refuse('checklist.unknown_item');
  switch (e.type) {
    case 'progress': {
      const cur = d.step ? order.indexOf(d.step) : -1;
      const next = order.indexOf(e.step);
      if (cur >= next) refuse('progress.already_recorded');
      if ((e.step === 'work_started' && d.step !== 'arrived') || (e.step === 'work_done' && d.step !== 'work_started')) refuse('progress.invalid_transition');
      d.step = e.step;
      d.card.status = ({ en_route: 'en_route', arrived: 'on_site', work_started: 'in_progress', work_done: 'work_done' } as Record<string, string>)[e.step] ?? d.card.status;
      break;
    }
    case 'answer': {
      const it = item(e.template_id, e.item_id);
      if (e.outcome.type === 'not_applicable' && !e.outcome.reason.trim()) refuse('checklist.reason_required');
      if (e.outcome.type === 'reading' && it.kind.type === 'reading' && (e.outcome.value < it.kind.min || e.outcome.value > it.kind.max) && !e.note.trim()) refuse('checklist.out_of_range_needs_note');
      it.answer = { outcome: e.outcome, note: e.note, photos: it.answer?.photos ?? [] };
      break;
    }
    case 'clear_answer': item(e.template_id, e.item_id).answer = null; break;
    case 'add_fee': {
      const f = fees.items.find((x) => x.code === e.code) ?? refuse('fees.unknown_fee');
      d.fees.push({ id: `fee-${nextId++}`, code: f.code, label_zh_cn: f.label_zh_cn, label_en: f.label_en, qty: e.qty, unit_price_cents: f.unit_price_cents });
      break;
    }
    case 'remove_fee': d.fees = d.fees.filter((f) => f.id !== e.id); break;
    case 'add_part': {
      const p = parts.parts.find((x) => x.part_no === e.part_no) ?? refuse('parts.unknown_part');
      if (e.qty < 1) refuse('input.bad_quantity');
      if (p.serialised && !e.replacement_serial.trim()) refuse('input.empty');
      d.parts.push({ id: `part-${nextId++}`, part_no: p.part_no, name_zh_cn: p.name_zh_cn, name_en: p.name_en, qty: e.qty, unit_price_cents: p.unit_price_cents, faulty_serial: e.faulty_serial, replacement_serial: e.replacement_serial, source: e.source });
      if (e.source === 'personal') p.on_hand -= e.qty;
      break;
    }
    case 'remove_part': d.parts = d.parts.filter((p) => p.id !== e.id); break;
    case 'set_notes': d.diagnosis = e.diagnosis; d.work_performed = e.work_performed; break;
    case 'add_home_check':
      if (!e.appliance.trim()) refuse('input.empty');
      d.home_checks.push({ id: `hc-${nextId++}`, appliance: e.appliance, result: e.result, note: e.note });
      break;
    case 'remove_home_check': d.home_checks = d.home_checks.filter((h) => h.id !== e.id); break;
    case 'confirm': d.confirmations = d.confirmations.map((c) => (c.confirmation === e.confirmation ? { ...c, value: e.value } : c)); break;
    case 'rate':
      if (e.stars < 1 || e.stars > 5) refuse('rating.out_of_range');
      d.rating = { stars: e.stars, comment: e.comment };
      break;
    default: refuse('app.internal');
  }
  touched(d);
}

function handle(cmd: string, args: Record<string, unknown>): unknown {
  state.calls.push(cmd);
  switch (cmd) {
    case 'settings': return { language: state.language };
    case 'set_language': state.language = args.language as string; return { language: state.language };
    case 'session': return state.session;
    case 'sign_in': {
      const r = args.request as { relay_url: string; user: string; password: string };
      if (r.user !== 'tech.a' || r.password !== 'demo') refuse('auth.bad_credentials');
      state.session = { technician_id: 'tech.a', technician_name: '张师傅 Zhang', relay_url: r.relay_url, device_id: 'dev-1' };
      return state.session;
    }
    case 'sync_status': case 'sync_now': return state.sync;
    case 'today':
      return { now_ms: now, orders: cards.map((c) => ({ ...(state.details.get(c.order_id)?.card ?? c) })) };
    case 'order_detail': return detailOf(args.orderId as string);
    case 'apply_edit': {
      const d = detailOf(args.orderId as string);
      const copy = structuredClone(d);
      applyEdit(copy, args.edit as EditRequest);
      state.details.set(d.card.order_id, refresh(copy));
      return copy;
    }
    case 'add_photo': {
      const r = args.request as { order_id: string; template_id: string; item_id: string; bytes_base64: string };
      const d = detailOf(r.order_id);
      const it = d.checklists.find((c) => c.template_id === r.template_id)?.items.find((i) => i.id === r.item_id);
      if (!it?.answer) refuse('checklist.not_answered');
      if (!r.bytes_base64.startsWith('iVBOR') && !r.bytes_base64.startsWith('/9j/')) refuse('attachment.not_an_image');
      it!.answer!.photos.push(`${'a'.repeat(63)}${it!.answer!.photos.length}`);
      touched(d);
      return refresh(d);
    }
    case 'certificate': return cert;
    case 'fee_schedule': return fees;
    case 'parts_and_stock': return parts;
    case 'sign': {
      const r = args.request as { order_id: string; signer_name: string; png_base64: string };
      const d = detailOf(r.order_id);
      if (!r.png_base64.startsWith('iVBOR')) refuse('signature.not_png');
      refresh(d);
      if (d.missing.length > 0) refuse('completion.incomplete', d.missing);
      if (!r.signer_name.trim()) refuse('signature.name_missing');
      d.signed = { signer_name: r.signer_name, signed_at_ms: Date.now(), record_hash: 'f'.repeat(64), image_sha256: 'e'.repeat(64), technician_name: '张师傅 Zhang', certificate_id: 'CERT-HA-0001' };
      d.step = 'signed';
      d.card.status = 'completed';
      d.card.sla = 'met';
      touched(d);
      return refresh(d);
    }
    case 'record_html': {
      const d = detailOf(args.orderId as string);
      if (!d.signed) refuse('record.not_signed');
      return `<!doctype html><html lang="${args.language}"><body><h1>${args.language === 'zh-CN' ? '服务记录单' : 'Service record'} ${d.card.order_no}</h1><p>${d.signed!.record_hash}</p></body></html>`;
    }
    case 'save_record_pdf': {
      const d = detailOf(args.orderId as string);
      if (!d.signed) refuse('record.not_signed');
      const hash = d.signed!.record_hash;
      const file_name = `${d.card.order_no}-${hash.slice(0, 12)}-${args.language}.pdf`;
      return { path: `/home/tech/Documents/Onsite/${file_name}`, file_name, bytes: 48213, pages: 1, record_hash: hash };
    }
    case 'sign_out': state.session = null; return null;
    default:
      return refuse('app.internal');
  }
}

mockIPC(
  (cmd, args) => {
    try {
      return handle(cmd, (args ?? {}) as Record<string, unknown>);
    } catch (e) {
      if (e instanceof Refusal) throw e.body;
      throw e;
    }
  },
  { shouldMockEvents: true },
);

/** Controls for the test driver. */
(window as unknown as { __mock: unknown }).__mock = {
  state,
  setOnline(online: boolean) {
    state.sync = { ...state.sync, online };
    void emit('sync-status', state.sync);
  },
  signedIn() {
    state.session = { technician_id: 'tech.a', technician_name: '张师傅 Zhang', relay_url: 'http://127.0.0.1:8787', device_id: 'dev-1' };
  },
};
