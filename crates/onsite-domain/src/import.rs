//! The rules of the CSV order import (`docs/import.md`), on rows already split into cells: which
//! headers name which column (zh-CN or en), what each value may be, and which household each row
//! belongs to. [`check`] gives every row a verdict (a new order, already imported, or its errors
//! with a stable code and the column); [`build`] turns the checked rows into households and orders.
//! Reading the bytes (encoding, quoting) is the app's job; this module does no IO.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::household::{Contact, Household, OrderRequest};
use crate::order::{Appliance, Order, Tier, Window};
use crate::reference::ServiceType;
use crate::sla::SlaPolicy;
use crate::{Code, DomainError, HOUR, MINUTE, Millis, phone};

/// A documented column of the import file. Crosses to the UI (ts-rs) to name a row error's column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    ExternalRef,
    CustomerName,
    Phone,
    Address,
    Tier,
    ServiceType,
    ScheduledDate,
    TimeWindow,
    Problem,
    Category,
    Brand,
    Model,
    Serial,
    Notes,
}

impl Column {
    pub const ALL: [Column; 14] = [
        Column::ExternalRef,
        Column::CustomerName,
        Column::Phone,
        Column::Address,
        Column::Tier,
        Column::ServiceType,
        Column::ScheduledDate,
        Column::TimeWindow,
        Column::Problem,
        Column::Category,
        Column::Brand,
        Column::Model,
        Column::Serial,
        Column::Notes,
    ];

    /// The headers accepted for this column: the documented English and Chinese ones first.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Column::ExternalRef => &["external_ref", "外部单号", "external_reference", "单号"],
            Column::CustomerName => &["customer_name", "客户姓名", "name", "姓名", "客户"],
            Column::Phone => &["phone", "电话", "mobile", "手机", "联系电话", "手机号"],
            Column::Address => &["address", "地址", "客户地址", "详细地址"],
            Column::Tier => &["tier", "等级", "客户等级"],
            Column::ServiceType => &["service_type", "服务类型"],
            Column::ScheduledDate => &["scheduled_date", "预约日期", "date", "日期"],
            Column::TimeWindow => &["time_window", "预约时段", "时段", "window"],
            Column::Problem => &["problem", "问题描述", "故障描述", "description"],
            Column::Category => &["category", "品类", "产品品类"],
            Column::Brand => &["brand", "品牌"],
            Column::Model => &["model", "型号"],
            Column::Serial => &["serial", "序列号", "机身编号", "serial_no"],
            Column::Notes => &["notes", "备注"],
        }
    }

    /// Whether every row needs a value in this column (and the header must name it).
    pub fn required(self) -> bool {
        matches!(
            self,
            Column::ExternalRef
                | Column::CustomerName
                | Column::Phone
                | Column::Address
                | Column::ServiceType
                | Column::Category
        )
    }

    /// The column a header names: case, surrounding spaces, a BOM and ` `/`-` vs `_` do not
    /// matter.
    pub fn from_header(text: &str) -> Option<Column> {
        let key: String = text
            .trim_start_matches('\u{feff}')
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_");
        Column::ALL
            .into_iter()
            .find(|c| c.headers().contains(&key.as_str()))
    }
}

/// One problem found in the file: a stable code, the column (if one), the offending text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub code: Code,
    pub column: Option<Column>,
    pub value: String,
}

impl Issue {
    fn new(code: Code, column: Option<Column>, value: &str) -> Issue {
        Issue {
            code,
            column,
            value: value.chars().take(80).collect(),
        }
    }
}

/// Which file column holds which documented column.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    columns: BTreeMap<Column, usize>,
    /// Cells in the header row: a row with more (non-empty) cells is malformed.
    width: usize,
}

impl Header {
    /// The trimmed cell of `cells` in column `c` (empty when the file has no such column).
    pub fn cell<'a>(&self, cells: &'a [String], c: Column) -> &'a str {
        self.columns
            .get(&c)
            .and_then(|i| cells.get(*i))
            .map_or("", |s| s.trim())
    }
}

/// Read the header row: every cell must name a documented column, once, and every required
/// column must be there. Blank header cells (Excel's trailing commas) are ignored.
pub fn read_header(cells: &[String]) -> Result<Header, Vec<Issue>> {
    let mut columns = BTreeMap::new();
    let mut issues = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if cell.trim().trim_start_matches('\u{feff}').is_empty() {
            continue;
        }
        match Column::from_header(cell) {
            None => issues.push(Issue::new(Code::ImportUnknownColumn, None, cell)),
            Some(c) if columns.contains_key(&c) => {
                issues.push(Issue::new(Code::ImportDuplicateColumn, Some(c), cell))
            }
            Some(c) => {
                columns.insert(c, i);
            }
        }
    }
    for c in Column::ALL {
        if c.required() && !columns.contains_key(&c) {
            issues.push(Issue::new(
                Code::ImportMissingColumn,
                Some(c),
                c.headers()[1],
            ));
        }
    }
    if issues.is_empty() {
        Ok(Header {
            columns,
            width: cells.len(),
        })
    } else {
        Err(issues)
    }
}

/// The appliance a row is about, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplianceFields {
    pub category: String,
    pub brand: String,
    pub model: String,
    pub serial: String,
}

/// A row whose values are all valid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub external_ref: String,
    pub name: String,
    /// Normalised ([`phone::normalise`]).
    pub phone: String,
    pub address: String,
    /// `None` when the cell is empty: the household's tier (standard for a new one).
    pub tier: Option<Tier>,
    pub service_type: ServiceType,
    pub schedule: Option<Window>,
    pub problem: String,
    pub notes: String,
    pub appliance: ApplianceFields,
}

/// An appliance category written in Chinese as the app names it
/// ([`crate::household::APPLIANCE_CATEGORIES`]), or as given, in lower case.
fn category(text: &str) -> String {
    crate::household::APPLIANCE_CATEGORIES
        .iter()
        .find(|c| c.zh_cn == text)
        .map_or_else(|| text.to_ascii_lowercase(), |c| c.id.to_owned())
}

/// The service type named by its zh-CN or English label (as the app shows them) or its id.
pub fn service_type(text: &str) -> Option<ServiceType> {
    let t = text.trim();
    ServiceType::ALL.into_iter().find(|s| {
        let l = s.label();
        t == l.zh_cn || t.eq_ignore_ascii_case(&l.en) || t.eq_ignore_ascii_case(s.template_id())
    })
}

/// The tier named in zh-CN or English.
pub fn tier(text: &str) -> Option<Tier> {
    match text.trim().to_ascii_lowercase().as_str() {
        "普通" | "普通客户" | "standard" => Some(Tier::Standard),
        "金卡" | "金卡客户" | "gold" => Some(Tier::Gold),
        "白金" | "白金卡" | "白金客户" | "platinum" => Some(Tier::Platinum),
        _ => None,
    }
}

/// Days from 1970-01-01 to the civil date, or `None` when it is not a real date.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let len = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > len[(m - 1) as usize] || !(2000..=2100).contains(&y) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// A date written `YYYY-MM-DD` or `YYYY/M/D`, as days since 1970-01-01.
pub fn date(text: &str) -> Option<i64> {
    let t = text.trim();
    let sep = if t.contains('-') { '-' } else { '/' };
    let parts: Vec<&str> = t.split(sep).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str, max_len: usize| -> Option<i64> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    if y.len() != 4 || (sep == '-' && (m.len() != 2 || d.len() != 2)) {
        return None;
    }
    days_from_civil(num(y, 4)?, num(m, 2)?, num(d, 2)?)
}

/// A time window `HH:MM-HH:MM` (also `~`, `～`, `至`, full-width colon) as minutes after
/// midnight; the end must be after the start.
pub fn time_window(text: &str) -> Option<(i64, i64)> {
    let t = text.trim().replace('：', ":");
    let (a, b) = t
        .split_once(['-', '~', '～', '–', '至'])
        .map(|(a, b)| (a.trim(), b.trim()))?;
    let minutes = |s: &str| -> Option<i64> {
        let (h, m) = s.split_once(':')?;
        let ok = |x: &str| !x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit());
        if !ok(h) || m.len() != 2 || !ok(m) {
            return None;
        }
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
    };
    let (start, end) = (minutes(a)?, minutes(b)?);
    (end > start).then_some((start, end))
}

/// The working day a date without a time window is scheduled in (local time).
pub const DEFAULT_WINDOW: (i64, i64) = (9 * 60, 18 * 60);

/// Read one data row against `header`. Dates and windows are local time at `utc_offset_ms`.
pub fn read_row(
    header: &Header,
    cells: &[String],
    utc_offset_ms: Millis,
) -> Result<Row, Vec<Issue>> {
    let cell = |c: Column| header.cell(cells, c);
    let mut issues = Vec::new();
    // More cells than headers: usually an address with an unquoted comma.
    if let Some(extra) = cells
        .iter()
        .skip(header.width)
        .find(|c| !c.trim().is_empty())
    {
        issues.push(Issue::new(Code::ImportMalformed, None, extra));
    }
    for c in Column::ALL {
        if c.required() && cell(c).is_empty() {
            issues.push(Issue::new(Code::ImportMissingValue, Some(c), ""));
        }
    }
    let phone = match cell(Column::Phone) {
        "" => String::new(),
        p => phone::normalise(p).unwrap_or_else(|_| {
            issues.push(Issue::new(Code::RegistryBadPhone, Some(Column::Phone), p));
            String::new()
        }),
    };
    let service = cell(Column::ServiceType);
    let service_type = service_type(service);
    if service_type.is_none() && !service.is_empty() {
        issues.push(Issue::new(
            Code::ImportUnknownServiceType,
            Some(Column::ServiceType),
            service,
        ));
    }
    let tier_text = cell(Column::Tier);
    let tier = tier(tier_text);
    if tier.is_none() && !tier_text.is_empty() {
        issues.push(Issue::new(
            Code::ImportUnknownTier,
            Some(Column::Tier),
            tier_text,
        ));
    }
    let schedule = schedule(
        cell(Column::ScheduledDate),
        cell(Column::TimeWindow),
        utc_offset_ms,
    )
    .unwrap_or_else(|i| {
        issues.push(i);
        None
    });
    let (Some(service_type), true) = (service_type, issues.is_empty()) else {
        return Err(issues);
    };
    Ok(Row {
        external_ref: cell(Column::ExternalRef).to_owned(),
        name: cell(Column::CustomerName).to_owned(),
        phone,
        address: cell(Column::Address).to_owned(),
        tier,
        service_type,
        schedule,
        problem: cell(Column::Problem).to_owned(),
        notes: cell(Column::Notes).to_owned(),
        appliance: ApplianceFields {
            category: category(cell(Column::Category)),
            brand: cell(Column::Brand).to_owned(),
            model: cell(Column::Model).to_owned(),
            serial: cell(Column::Serial).to_owned(),
        },
    })
}

fn schedule(
    date_text: &str,
    window_text: &str,
    utc_offset_ms: Millis,
) -> Result<Option<Window>, Issue> {
    let day = match (date_text, window_text) {
        ("", "") => return Ok(None),
        ("", w) => {
            return Err(Issue::new(
                Code::ImportMissingValue,
                Some(Column::ScheduledDate),
                w,
            ));
        }
        (d, _) => date(d)
            .ok_or_else(|| Issue::new(Code::ImportBadDate, Some(Column::ScheduledDate), d))?,
    };
    let (start, end) = match window_text {
        "" => DEFAULT_WINDOW,
        w => time_window(w)
            .ok_or_else(|| Issue::new(Code::ImportBadTimeWindow, Some(Column::TimeWindow), w))?,
    };
    let midnight = day * 24 * HOUR - utc_offset_ms;
    Ok(Some(Window {
        start_ms: midnight + start * MINUTE,
        end_ms: midnight + end * MINUTE,
    }))
}

/// Where a new order's customer comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HouseholdMatch {
    /// A household of the registry with the row's phone number.
    Existing { household_id: String, name: String },
    /// The first row with this phone number creates the household.
    New,
    /// An earlier row of the file (spreadsheet row number) creates it.
    SameAsRow(usize),
}

/// The verdict on one data row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Verdict {
    /// A new order (and maybe household) will be imported.
    New {
        row: Box<Row>,
        household: HouseholdMatch,
    },
    /// An order with the row's external reference exists: the row is skipped.
    AlreadyImported {
        external_ref: String,
        order_no: String,
    },
    Invalid(Vec<Issue>),
}

/// One data row with its spreadsheet row number (the header is row 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckedRow {
    pub row_no: usize,
    pub verdict: Verdict,
}

/// What the registry already holds, for [`check`] and [`build`].
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    pub households: &'a [Household],
    /// External reference → order number of every order on the device that has one.
    pub imported: &'a BTreeMap<String, String>,
}

impl Known<'_> {
    fn household_with_phone(&self, number: &str) -> Option<&Household> {
        self.households
            .iter()
            .filter(|h| h.phones.iter().any(|p| p == number))
            .min_by(|a, b| a.household_id.cmp(&b.household_id))
    }
}

/// The verdict on every data row (`rows` after the header). A repeated external reference makes
/// every row after the first invalid; the first row with a phone the registry does not know
/// creates its household and later ones join it.
pub fn check(
    header: &Header,
    rows: &[Vec<String>],
    known: Known<'_>,
    utc_offset_ms: Millis,
) -> Vec<CheckedRow> {
    let mut refs: BTreeMap<String, usize> = BTreeMap::new();
    let mut new_phones: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, cells) in rows.iter().enumerate() {
        let row_no = i + 2;
        let verdict = match read_row(header, cells, utc_offset_ms) {
            Err(issues) => Verdict::Invalid(issues),
            Ok(row) => {
                if let Some(order_no) = known.imported.get(&row.external_ref) {
                    Verdict::AlreadyImported {
                        external_ref: row.external_ref,
                        order_no: order_no.clone(),
                    }
                } else if refs.contains_key(&row.external_ref) {
                    Verdict::Invalid(vec![Issue::new(
                        Code::ImportDuplicateInFile,
                        Some(Column::ExternalRef),
                        &row.external_ref,
                    )])
                } else {
                    refs.insert(row.external_ref.clone(), row_no);
                    let household = match known.household_with_phone(&row.phone) {
                        Some(h) => HouseholdMatch::Existing {
                            household_id: h.household_id.clone(),
                            name: h.name.clone(),
                        },
                        None => match new_phones.get(&row.phone) {
                            Some(first) => HouseholdMatch::SameAsRow(*first),
                            None => {
                                new_phones.insert(row.phone.clone(), row_no);
                                HouseholdMatch::New
                            }
                        },
                    };
                    Verdict::New {
                        row: Box::new(row),
                        household,
                    }
                }
            }
        };
        out.push(CheckedRow { row_no, verdict });
    }
    out
}

/// What an import writes: households created, appliances added to registry households, orders.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub new_households: Vec<Household>,
    /// (household id, appliance) for households already in the registry.
    pub added_appliances: Vec<(String, Appliance)>,
    pub orders: Vec<Order>,
}

/// The appliance of `h` a row is about: same serial, or (without a serial) same category, brand
/// and model; `None` when it is new to the household.
fn find_appliance<'a>(h: &'a Household, a: &ApplianceFields) -> Option<&'a Appliance> {
    let same = |x: &str, y: &str| x.trim().eq_ignore_ascii_case(y.trim());
    h.appliances.iter().find(|x| {
        if a.serial.is_empty() {
            same(&x.category, &a.category) && same(&x.brand, &a.brand) && same(&x.model, &a.model)
        } else {
            same(&x.serial, &a.serial)
        }
    })
}

/// Fresh ids and order numbers for [`build`].
pub struct Fresh<'a> {
    /// A fresh id segment (for households `hh-<id>`, appliances `ap-<id>`, orders `o-<id>`).
    pub id: &'a mut dyn FnMut() -> String,
    /// The next order number at this time.
    pub order_no: &'a mut dyn FnMut(Millis) -> String,
}

/// The households and orders of every [`Verdict::New`] row at `now`. Refused (nothing built)
/// with [`DomainError::ImportHasErrors`] when any row is invalid. The registry's name, address and
/// tier win for a household it already holds; a row's appliance is added to the household when
/// it is not there yet.
pub fn build(
    rows: &[CheckedRow],
    known: Known<'_>,
    fresh: Fresh<'_>,
    policy: &SlaPolicy,
    now: Millis,
) -> Result<Import, DomainError> {
    let invalid = rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Invalid(_)))
        .count();
    if invalid > 0 {
        return Err(DomainError::ImportHasErrors(invalid));
    }
    // Households touched by the import, by phone, and whether the registry already had them.
    let mut households: BTreeMap<String, (Household, bool)> = BTreeMap::new();
    let mut added: Vec<(String, Appliance)> = Vec::new();
    let mut orders = Vec::new();
    let mut seen_refs = BTreeSet::new();
    for r in rows {
        let Verdict::New { row, .. } = &r.verdict else {
            continue;
        };
        if !seen_refs.insert(row.external_ref.clone()) {
            return Err(DomainError::DuplicateId(row.external_ref.clone()));
        }
        let (h, existing) = match households.entry(row.phone.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let found = known.household_with_phone(&row.phone).cloned();
                let entry = match found {
                    Some(h) => (h, true),
                    None => (new_household(row, &mut *fresh.id, now)?, false),
                };
                v.insert(entry)
            }
        };
        let appliance_id = match find_appliance(h, &row.appliance) {
            Some(a) => a.id.clone(),
            None => {
                let a = Appliance {
                    id: format!("ap-{}", (fresh.id)()),
                    category: row.appliance.category.clone(),
                    brand: row.appliance.brand.clone(),
                    model: row.appliance.model.clone(),
                    serial: row.appliance.serial.clone(),
                    purchase_date_ms: None,
                    warranty_until_ms: None,
                };
                h.add_appliance(a.clone(), now)?;
                if *existing {
                    added.push((h.household_id.clone(), a.clone()));
                }
                a.id
            }
        };
        let new = h.order_for(OrderRequest {
            order_id: format!("o-{}", (fresh.id)()),
            order_no: (fresh.order_no)(now),
            appliance_id,
            service_type: row.service_type,
            problem: row.problem.clone(),
            schedule: row.schedule,
        })?;
        let mut order = Order::create(new, policy, now)?;
        order.external_ref = Some(row.external_ref.clone());
        orders.push(order);
    }
    let new_households = households
        .into_values()
        .filter(|(_, existing)| !existing)
        .map(|(h, _)| h)
        .collect();
    Ok(Import {
        new_households,
        added_appliances: added,
        orders,
    })
}

fn new_household(
    row: &Row,
    id: &mut dyn FnMut() -> String,
    now: Millis,
) -> Result<Household, DomainError> {
    Household::create(
        &format!("hh-{}", id()),
        Contact {
            name: row.name.clone(),
            phones: vec![row.phone.clone()],
            address: row.address.clone(),
            tier: row.tier.unwrap_or(Tier::Standard),
            notes: row.notes.clone(),
            preferences: Vec::new(),
        },
        Vec::new(),
        now,
    )
}
