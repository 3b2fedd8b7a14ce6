//! The record as the customer reads it: every signed fact resolved to words in one language. The
//! HTML and the PDF renderers draw this same view, so they can never disagree on content.

use chrono::{DateTime, FixedOffset};
use onsite_domain::order::Order;
use onsite_domain::progress;
use onsite_domain::record::{self, Verification};
use onsite_domain::reference::{
    ChecklistTemplate, Confirmation, ItemKind, TemplateItem, TemplateLibrary,
};
use onsite_domain::templates::HAIER_12345;
use onsite_domain::visit::{
    CheckResult, ChecklistInstance, ItemAnswer, Outcome, StockSource, Visit, confirmation_key,
};
use qrcode::{EcLevel, QrCode};

use crate::error::RecordError;
use crate::i18n::{self, Lang, Words};
use crate::signature::sha256_hex;

/// Everything a record is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct RecordInput<'a> {
    pub order: &'a Order,
    pub visit: &'a Visit,
    pub library: &'a TemplateLibrary,
    /// The normalised signature PNG (the attachment whose SHA-256 the visit's signature holds).
    pub signature_png: &'a [u8],
    pub company: &'a str,
    /// The relay's public base URL, e.g. `https://relay.example.com`.
    pub relay_base_url: &'a str,
    pub lang: Lang,
    /// Offset of the customer's local time from UTC, in minutes (China: 480).
    pub utc_offset_minutes: i32,
}

/// The verification URL printed (and QR-encoded) on a record:
/// `<relay>/verify/<order-number>/<hash>`. The order number is percent-encoded as one path segment.
pub fn verify_url(relay_base_url: &str, order_no: &str, hash: &str) -> String {
    let mut seg = String::new();
    for b in order_no.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            seg.push(b as char);
        } else {
            seg.push_str(&format!("%{b:02X}"));
        }
    }
    format!(
        "{}/verify/{seg}/{hash}",
        relay_base_url.trim_end_matches('/')
    )
}

/// `2026-11-30 14:05 (UTC+08:00)`.
pub(crate) fn format_time(ms: i64, utc_offset_minutes: i32) -> String {
    let offset = FixedOffset::east_opt(utc_offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t
            .with_timezone(&offset)
            .format("%Y-%m-%d %H:%M (UTC%:z)")
            .to_string(),
        None => ms.to_string(),
    }
}

/// Date only: `2026-11-30`.
pub(crate) fn format_date(ms: i64, utc_offset_minutes: i32) -> String {
    let offset = FixedOffset::east_opt(utc_offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t.with_timezone(&offset).format("%Y-%m-%d").to_string(),
        None => ms.to_string(),
    }
}

pub(crate) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}¥{}.{:02}", c / 100, c % 100)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub header: String,
    /// Share of the table width.
    pub weight: f32,
    pub align: Align,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowStyle {
    Normal,
    /// One cell spanning the table: a group heading.
    Group,
    /// Something the customer should look at (a reading out of range, an unconfirmed item).
    Warn,
    Total,
}

#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub cells: Vec<String>,
    pub style: RowStyle,
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub title: String,
    pub columns: Vec<Column>,
    /// Whether to print the column headers (key–value tables do not).
    pub show_header: bool,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub(crate) struct Status {
    pub valid: bool,
    pub text: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct SignatureView {
    pub png: Vec<u8>,
    pub grey: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub signer: String,
    pub signed_at: String,
}

/// QR modules, row-major, `true` = dark; `width` modules a side, without quiet zone.
#[derive(Debug, Clone)]
pub(crate) struct Qr {
    pub width: usize,
    pub dark: Vec<bool>,
}

impl Qr {
    /// Horizontal runs of dark modules: `(x, y, len)`.
    pub fn runs(&self) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.dark[y * self.width + x] {
                    let start = x;
                    while x < self.width && self.dark[y * self.width + x] {
                        x += 1;
                    }
                    out.push((start, y, x - start));
                } else {
                    x += 1;
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RecordView {
    pub lang: Lang,
    pub words: &'static Words,
    pub company: String,
    pub order_no: String,
    pub status: Status,
    pub facts: Vec<(String, String)>,
    pub tables: Vec<Table>,
    pub signature: SignatureView,
    pub hash: String,
    pub verify_url: String,
    pub qr: Qr,
}

impl RecordView {
    /// Every piece of text the view shows (for glyph coverage checks).
    pub fn all_text(&self) -> String {
        let w = self.words;
        let mut s = String::new();
        for part in [
            w.title,
            w.order_no,
            w.signature,
            w.signed_by,
            w.signed_at,
            w.verification,
            w.record_hash,
            w.verify_at,
            w.scan_to_verify,
            w.page,
        ] {
            s.push_str(part);
        }
        s.push_str(&self.company);
        s.push_str(&self.order_no);
        s.push_str(&self.status.text);
        s.push_str(self.status.detail.as_deref().unwrap_or(""));
        for (k, v) in &self.facts {
            s.push_str(k);
            s.push_str(v);
        }
        for t in &self.tables {
            s.push_str(&t.title);
            for c in &t.columns {
                s.push_str(&c.header);
            }
            for r in &t.rows {
                for c in &r.cells {
                    s.push_str(c);
                }
            }
        }
        s.push_str(&self.signature.signer);
        s.push_str(&self.signature.signed_at);
        s.push_str(&self.hash);
        s.push_str(&self.verify_url);
        s
    }
}

fn col(header: &str, weight: f32, align: Align) -> Column {
    Column {
        header: header.to_owned(),
        weight,
        align,
    }
}

fn row(cells: Vec<String>) -> Row {
    Row {
        cells,
        style: RowStyle::Normal,
    }
}

fn with_note(mut text: String, ans: &ItemAnswer, w: &Words, lang: Lang) -> String {
    if !ans.note.trim().is_empty() {
        let sep = if lang == Lang::ZhCn { "；" } else { "; " };
        let colon = if lang == Lang::ZhCn { "：" } else { ": " };
        text.push_str(sep);
        text.push_str(w.note);
        text.push_str(colon);
        text.push_str(ans.note.trim());
    }
    if !ans.photos.is_empty() {
        let n = ans.photos.len();
        text.push_str(&match lang {
            Lang::ZhCn => format!("（{n} {}）", w.photos),
            Lang::En => format!(" ({n} {})", w.photos),
        });
    }
    text
}

fn na_text(reason: &str, w: &Words, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("{}：{reason}", w.not_applicable),
        Lang::En => format!("{}: {reason}", w.not_applicable),
    }
}

fn range_text(unit: &str, min: f64, max: f64) -> String {
    format!("{min}–{max} {unit}")
}

/// Build the view; refuses unsigned visits and signature bytes that are not the signed image.
pub(crate) fn build(input: &RecordInput<'_>) -> Result<RecordView, RecordError> {
    let RecordInput {
        order, visit, lang, ..
    } = *input;
    let w = lang.words();
    let Some(sig) = &visit.signature else {
        return Err(RecordError::Unsigned);
    };
    let grey = signature_image(input.signature_png, &sig.image_sha256)?;
    let status = status(order, visit, lang)?;
    let tz = input.utc_offset_minutes;
    let url = verify_url(input.relay_base_url, &order.order_no, &sig.record_hash);
    let qr = qr(&url)?;
    Ok(RecordView {
        lang,
        words: w,
        company: input.company.to_owned(),
        order_no: order.order_no.clone(),
        status,
        facts: facts(
            order,
            visit,
            &sig.technician_name,
            &sig.certificate_id,
            lang,
        ),
        tables: tables(input),
        signature: SignatureView {
            png: input.signature_png.to_vec(),
            width: grey.width(),
            height: grey.height(),
            grey: grey.into_raw(),
            signer: sig.signer_name.clone(),
            signed_at: format_time(sig.signed_at_ms, tz),
        },
        hash: sig.record_hash.clone(),
        verify_url: url,
        qr,
    })
}

/// The signature PNG in grey, refused unless it is the image whose SHA-256 was signed.
fn signature_image(png: &[u8], signed_sha256: &str) -> Result<image::GrayImage, RecordError> {
    let actual = sha256_hex(png);
    if actual != signed_sha256 {
        return Err(RecordError::SignatureMismatch {
            signed: signed_sha256.to_owned(),
            given: actual,
        });
    }
    Ok(
        image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .map_err(|e| RecordError::SignatureUnreadable(e.to_string()))?
            .to_luma8(),
    )
}

/// Whether the record still matches its signature, and which sections changed if not.
fn status(order: &Order, visit: &Visit, lang: Lang) -> Result<Status, RecordError> {
    let w = lang.words();
    match record::verify(order, visit) {
        Verification::Valid { .. } => Ok(Status {
            valid: true,
            text: w.valid.to_owned(),
            detail: None,
        }),
        Verification::ModifiedAfterSigning { sections, .. } => {
            let names: Vec<String> = sections
                .iter()
                .map(|s| i18n::section_label(s, lang))
                .collect();
            let sep = if lang == Lang::ZhCn { "、" } else { ", " };
            let colon = if lang == Lang::ZhCn { "：" } else { ": " };
            Ok(Status {
                valid: false,
                text: w.modified.to_owned(),
                detail: Some(format!("{}{colon}{}", w.modified_sections, names.join(sep))),
            })
        }
        Verification::Unsigned => Err(RecordError::Unsigned),
    }
}

/// Customer, address, appliance, service type, technician and certificate.
fn facts(
    order: &Order,
    visit: &Visit,
    technician_name: &str,
    certificate_id: &str,
    lang: Lang,
) -> Vec<(String, String)> {
    let w = lang.words();
    let appliance = order
        .appliance()
        .map(|a| {
            format!(
                "{} {} · {} · S/N {}",
                a.brand,
                a.model,
                appliance_category(&a.category, lang),
                a.serial
            )
        })
        .unwrap_or_else(|| w.none.to_owned());
    vec![
        (w.customer.to_owned(), order.customer.name.clone()),
        (w.address.to_owned(), order.customer.address.clone()),
        (w.appliance.to_owned(), appliance),
        (
            w.service_type.to_owned(),
            order.service_type.label().get(lang.tag()).to_owned(),
        ),
        (
            w.technician.to_owned(),
            format!("{technician_name} ({})", visit.technician_id),
        ),
        (w.certificate.to_owned(), certificate_id.to_owned()),
    ]
}

/// The record's tables in reading order.
fn tables(input: &RecordInput<'_>) -> Vec<Table> {
    let RecordInput {
        visit,
        library,
        lang,
        ..
    } = *input;
    let mut tables = checklist_tables(visit, library, lang);
    tables.extend(home_checks_table(visit, lang));
    tables.push(work_table(visit, lang));
    tables.extend(parts_table(visit, lang));
    tables.push(fees_table(visit, lang));
    // With the Haier 12345 template at hand, its table already shows every confirmation.
    if !visit.checklists.contains_key(HAIER_12345) || library.latest(HAIER_12345).is_none() {
        tables.push(confirmations_table(visit, library, lang));
    }
    tables.push(rating_table(visit, lang));
    tables.push(progress_table(visit, lang, input.utc_offset_minutes));
    tables
}

/// One table per checklist — the Haier 12345 standard first, then the service type's — and the
/// measurements they hold, gathered in one table after them.
fn checklist_tables(visit: &Visit, library: &TemplateLibrary, lang: Lang) -> Vec<Table> {
    let w = lang.words();
    let mut tables = Vec::new();
    let mut readings: Vec<Row> = Vec::new();
    let mut instances: Vec<&ChecklistInstance> = visit.checklists.values().collect();
    instances.sort_by_key(|c| (c.template_id != HAIER_12345, c.template_id.clone()));
    for inst in instances {
        match library.get(&inst.template_id, inst.version) {
            Ok(t) => tables.push(checklist_table(t, inst, visit, lang, &mut readings)),
            Err(_) => tables.push(raw_checklist_table(inst, lang, &mut readings)),
        }
    }
    if !readings.is_empty() {
        tables.push(Table {
            title: w.measurements.to_owned(),
            columns: vec![
                col(w.item, 3.0, Align::Left),
                col(w.value, 1.4, Align::Right),
                col(w.allowed_range, 1.8, Align::Right),
                col(w.result, 2.6, Align::Left),
            ],
            show_header: true,
            rows: readings,
        });
    }
    tables
}

/// Checks of the customer's other appliances, when any were made.
fn home_checks_table(visit: &Visit, lang: Lang) -> Option<Table> {
    let w = lang.words();
    if visit.home_checks.is_empty() {
        return None;
    }
    let mut checks: Vec<_> = visit.home_checks.iter().collect();
    checks.sort_by(|a, b| a.id.cmp(&b.id));
    Some(Table {
        title: w.home_checks.to_owned(),
        columns: vec![
            col(w.appliance, 2.0, Align::Left),
            col(w.result, 1.2, Align::Left),
            col(w.note, 3.0, Align::Left),
        ],
        show_header: true,
        rows: checks
            .into_iter()
            .map(|h| Row {
                cells: vec![
                    appliance_category(&h.appliance, lang),
                    match h.result {
                        CheckResult::Ok => w.check_ok,
                        CheckResult::NeedsService => w.check_needs_service,
                    }
                    .to_owned(),
                    h.note.clone(),
                ],
                style: match h.result {
                    CheckResult::Ok => RowStyle::Normal,
                    CheckResult::NeedsService => RowStyle::Warn,
                },
            })
            .collect(),
    })
}

/// Diagnosis and work performed.
fn work_table(visit: &Visit, lang: Lang) -> Table {
    let w = lang.words();
    Table {
        title: w.work.to_owned(),
        columns: vec![col("", 1.0, Align::Left), col("", 3.5, Align::Left)],
        show_header: false,
        rows: vec![
            row(vec![w.diagnosis.to_owned(), or_none(&visit.diagnosis, w)]),
            row(vec![
                w.work_performed.to_owned(),
                or_none(&visit.work_performed, w),
            ]),
        ],
    }
}

/// Parts used, when any were.
fn parts_table(visit: &Visit, lang: Lang) -> Option<Table> {
    let w = lang.words();
    let mut parts: Vec<_> = visit.parts.iter().collect();
    parts.sort_by(|a, b| a.id.cmp(&b.id));
    if parts.is_empty() {
        return None;
    }
    Some(Table {
        title: w.parts.to_owned(),
        columns: vec![
            col(w.part, 2.6, Align::Left),
            col(w.part_no, 1.6, Align::Left),
            col(w.qty, 0.6, Align::Right),
            col(w.unit_price, 1.1, Align::Right),
            col(w.faulty_serial, 1.6, Align::Left),
            col(w.new_serial, 1.6, Align::Left),
            col(w.amount, 1.1, Align::Right),
        ],
        show_header: true,
        rows: parts
            .iter()
            .map(|p| {
                let name = if lang == Lang::ZhCn {
                    &p.name_zh_cn
                } else {
                    &p.name_en
                };
                let source = match p.source {
                    StockSource::Personal => w.personal_stock,
                    StockSource::Warehouse => w.warehouse,
                };
                let name = match lang {
                    Lang::ZhCn => format!("{name}（{source}）"),
                    Lang::En => format!("{name} ({source})"),
                };
                row(vec![
                    name,
                    p.part_no.clone(),
                    p.qty.to_string(),
                    money(p.unit_price_cents),
                    dash_if_empty(&p.faulty_serial),
                    dash_if_empty(&p.replacement_serial),
                    money(p.qty * p.unit_price_cents),
                ])
            })
            .collect(),
    })
}

/// Fee lines, the parts subtotal (when parts were used) and the total.
fn fees_table(visit: &Visit, lang: Lang) -> Table {
    let w = lang.words();
    let mut fees: Vec<_> = visit.fees.iter().collect();
    fees.sort_by(|a, b| a.id.cmp(&b.id));
    let mut fee_rows: Vec<Row> = fees
        .iter()
        .map(|f| {
            let label = if lang == Lang::ZhCn {
                &f.label_zh_cn
            } else {
                &f.label_en
            };
            row(vec![
                label.clone(),
                f.qty.to_string(),
                money(f.unit_price_cents),
                money(f.total_cents()),
            ])
        })
        .collect();
    if !visit.parts.is_empty() {
        fee_rows.push(row(vec![
            w.parts_subtotal.to_owned(),
            String::new(),
            String::new(),
            money(visit.parts_total_cents()),
        ]));
    }
    fee_rows.push(Row {
        cells: vec![
            w.total.to_owned(),
            String::new(),
            String::new(),
            money(visit.fees_total_cents() + visit.parts_total_cents()),
        ],
        style: RowStyle::Total,
    });
    Table {
        title: w.fees.to_owned(),
        columns: vec![
            col(w.item, 4.0, Align::Left),
            col(w.qty, 0.8, Align::Right),
            col(w.unit_price, 1.4, Align::Right),
            col(w.amount, 1.4, Align::Right),
        ],
        show_header: true,
        rows: fee_rows,
    }
}

/// The customer's rating and comment, or that none was given.
fn rating_table(visit: &Visit, lang: Lang) -> Table {
    let w = lang.words();
    let rows = match &visit.rating {
        Some(r) => {
            let stars = r.stars.min(5) as usize;
            vec![
                row(vec![
                    w.stars.to_owned(),
                    format!(
                        "{}{} {}/5",
                        "★".repeat(stars),
                        "☆".repeat(5 - stars),
                        r.stars
                    ),
                ]),
                row(vec![w.comment.to_owned(), or_none(&r.comment, w)]),
            ]
        }
        None => vec![row(vec![w.stars.to_owned(), w.none.to_owned()])],
    };
    Table {
        title: w.rating.to_owned(),
        columns: vec![col("", 1.0, Align::Left), col("", 3.5, Align::Left)],
        show_header: false,
        rows,
    }
}

/// The visit's progress steps in order, with their local time.
fn progress_table(visit: &Visit, lang: Lang, utc_offset_minutes: i32) -> Table {
    let w = lang.words();
    Table {
        title: w.progress.to_owned(),
        columns: vec![col(w.step, 1.0, Align::Left), col(w.time, 3.5, Align::Left)],
        show_header: true,
        rows: progress::ordered(&visit.events)
            .into_iter()
            .map(|e| {
                row(vec![
                    i18n::progress_label(e.kind, lang).to_owned(),
                    format_time(e.at_ms, utc_offset_minutes),
                ])
            })
            .collect(),
    }
}

/// The QR code of the verification URL.
fn qr(url: &str) -> Result<Qr, RecordError> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(|e| RecordError::Qr(e.to_string()))?;
    Ok(Qr {
        width: code.width(),
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect(),
    })
}

fn or_none(s: &str, w: &Words) -> String {
    if s.trim().is_empty() {
        w.none.to_owned()
    } else {
        s.to_owned()
    }
}

fn dash_if_empty(s: &str) -> String {
    if s.trim().is_empty() {
        "—".to_owned()
    } else {
        s.to_owned()
    }
}

/// Appliance categories as the seed and the app name them; unknown ones are shown as written.
fn appliance_category(category: &str, lang: Lang) -> String {
    let (zh, en) = match category {
        "air-conditioner" => ("空调", "air-conditioner"),
        "washer" => ("洗衣机", "washer"),
        "fridge" => ("冰箱", "fridge"),
        "water-heater" => ("热水器", "water heater"),
        "tv" => ("电视", "TV"),
        other => return other.to_owned(),
    };
    match lang {
        Lang::ZhCn => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

fn checklist_table(
    t: &ChecklistTemplate,
    inst: &ChecklistInstance,
    visit: &Visit,
    lang: Lang,
    readings: &mut Vec<Row>,
) -> Table {
    let w = lang.words();
    let mut rows = Vec::new();
    let mut group: Option<&str> = None;
    for item in &t.items {
        let label = item.label.get(lang.tag()).to_owned();
        let ans = inst.answers.get(&item.id);
        if let ItemKind::Reading { unit, min, max } = &item.kind {
            readings.push(reading_row(label, ans, unit, *min, *max, lang));
            continue;
        }
        if group != Some(item.group.as_str()) {
            group = Some(item.group.as_str());
            if let Some(g) = i18n::group_label(&item.group, lang) {
                rows.push(Row {
                    cells: vec![g.to_owned()],
                    style: RowStyle::Group,
                });
            }
        }
        let (text, style) = item_result(&item.kind, ans, visit, lang);
        rows.push(Row {
            cells: vec![label, text],
            style,
        });
    }
    Table {
        title: format!("{} (v{})", t.title.get(lang.tag()), t.version),
        columns: vec![
            col(w.item, 3.2, Align::Left),
            col(w.result, 2.6, Align::Left),
        ],
        show_header: true,
        rows,
    }
}

/// How an item reads on the signed record (for readings, the result column; the record also
/// lists them with their range). The app shows the same words on its Done screen.
pub fn item_result_text(
    template_id: &str,
    item: &TemplateItem,
    visit: &Visit,
    lang: Lang,
) -> String {
    let ans = visit
        .checklists
        .get(template_id)
        .and_then(|inst| inst.answers.get(&item.id));
    item_result(&item.kind, ans, visit, lang).0
}

fn item_result(
    kind: &ItemKind,
    ans: Option<&ItemAnswer>,
    visit: &Visit,
    lang: Lang,
) -> (String, RowStyle) {
    let w = lang.words();
    match (kind, ans) {
        (ItemKind::CustomerConfirm { confirmation }, _) => {
            if visit.confirmed(*confirmation) {
                (w.confirmed_by_customer.to_owned(), RowStyle::Normal)
            } else {
                (w.not_confirmed.to_owned(), RowStyle::Warn)
            }
        }
        (ItemKind::SignedRecord, _) => (w.signed_by_customer.to_owned(), RowStyle::Normal),
        (_, None) => (w.unanswered.to_owned(), RowStyle::Warn),
        (_, Some(a)) => {
            let (base, style) = outcome_text(&a.outcome, lang);
            (with_note(base, a, w, lang), style)
        }
    }
}

fn outcome_text(o: &Outcome, lang: Lang) -> (String, RowStyle) {
    let w = lang.words();
    match o {
        Outcome::Done => (w.done.to_owned(), RowStyle::Normal),
        Outcome::Pass => (w.pass.to_owned(), RowStyle::Normal),
        Outcome::Fail => (w.fail.to_owned(), RowStyle::Warn),
        Outcome::NotApplicable { reason } => (na_text(reason, w, lang), RowStyle::Normal),
        Outcome::Reading { value, unit } => (format!("{value} {unit}"), RowStyle::Normal),
    }
}

fn reading_row(
    label: String,
    ans: Option<&ItemAnswer>,
    unit: &str,
    min: f64,
    max: f64,
    lang: Lang,
) -> Row {
    let w = lang.words();
    let range = range_text(unit, min, max);
    match ans {
        Some(a) => match &a.outcome {
            Outcome::Reading { value, unit: u } => {
                let inside = *value >= min && *value <= max && u == unit;
                let verdict = if inside { w.in_range } else { w.out_of_range };
                Row {
                    cells: vec![
                        label,
                        format!("{value} {u}"),
                        range,
                        with_note(verdict.to_owned(), a, w, lang),
                    ],
                    style: if inside {
                        RowStyle::Normal
                    } else {
                        RowStyle::Warn
                    },
                }
            }
            other => {
                let (text, style) = outcome_text(other, lang);
                Row {
                    cells: vec![label, "—".to_owned(), range, with_note(text, a, w, lang)],
                    style,
                }
            }
        },
        None => Row {
            cells: vec![label, "—".to_owned(), range, w.unanswered.to_owned()],
            style: RowStyle::Warn,
        },
    }
}

/// A checklist whose template is not on this device: item ids are all there is to show.
fn raw_checklist_table(inst: &ChecklistInstance, lang: Lang, readings: &mut Vec<Row>) -> Table {
    let w = lang.words();
    let mut rows = Vec::new();
    for (id, a) in &inst.answers {
        if let Outcome::Reading { value, unit } = &a.outcome {
            readings.push(row(vec![
                id.clone(),
                format!("{value} {unit}"),
                "—".to_owned(),
                with_note(String::new(), a, w, lang),
            ]));
            continue;
        }
        let (text, style) = outcome_text(&a.outcome, lang);
        rows.push(Row {
            cells: vec![id.clone(), with_note(text, a, w, lang)],
            style,
        });
    }
    Table {
        title: format!("{}@{}", inst.template_id, inst.version),
        columns: vec![
            col(w.item, 3.2, Align::Left),
            col(w.result, 2.6, Align::Left),
        ],
        show_header: true,
        rows,
    }
}

fn confirmations_table(visit: &Visit, library: &TemplateLibrary, lang: Lang) -> Table {
    let w = lang.words();
    let haier = library.latest(HAIER_12345);
    let rows = Confirmation::ALL
        .iter()
        .map(|c| {
            let label = haier
                .and_then(|t| {
                    t.items.iter().find(|i| {
                        matches!(&i.kind, ItemKind::CustomerConfirm { confirmation } if confirmation == c)
                    })
                })
                .map(|i| i.label.get(lang.tag()).to_owned())
                .unwrap_or_else(|| i18n::confirmation_label(*c, lang).to_owned());
            let yes = visit
                .confirmations
                .get(confirmation_key(*c))
                .copied()
                .unwrap_or(false);
            Row {
                cells: vec![label, if yes { w.yes } else { w.no }.to_owned()],
                style: if yes { RowStyle::Normal } else { RowStyle::Warn },
            }
        })
        .collect();
    Table {
        title: w.confirmations.to_owned(),
        columns: vec![
            col(w.item, 4.0, Align::Left),
            col(w.result, 1.0, Align::Left),
        ],
        show_header: true,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_url_joins_and_escapes() {
        assert_eq!(
            verify_url("https://r.example/", "WO-00001", "ab"),
            "https://r.example/verify/WO-00001/ab"
        );
        assert_eq!(
            verify_url("https://r.example", "WO 1/2", "ab"),
            "https://r.example/verify/WO%201%2F2/ab",
            "an order number is one path segment"
        );
    }

    #[test]
    fn money_and_time_format() {
        assert_eq!(money(12345), "¥123.45");
        assert_eq!(money(5), "¥0.05");
        assert_eq!(
            format_time(0, 480),
            "1970-01-01 08:00 (UTC+08:00)",
            "China local time"
        );
    }
}

#[cfg(test)]
mod qr_tests {
    use super::*;

    #[test]
    fn qr_runs_redraw_a_decodable_code() {
        let url = verify_url("https://relay.example", "WO-00001", &"ab".repeat(32));
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).unwrap();
        let qr = Qr {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect(),
        };
        let scale = 4;
        let side = (qr.width + 8) * scale;
        let mut img = image::GrayImage::from_pixel(side as u32, side as u32, image::Luma([255]));
        for (x, y, len) in qr.runs() {
            for px in (x + 4) * scale..(x + 4 + len) * scale {
                for py in (y + 4) * scale..(y + 5) * scale {
                    img.put_pixel(px as u32, py as u32, image::Luma([0]));
                }
            }
        }
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "one code found");
        assert_eq!(grids[0].decode().unwrap().1, url);
    }
}
