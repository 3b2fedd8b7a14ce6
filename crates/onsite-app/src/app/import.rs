//! The CSV order import (`docs/import.md`): read the file's bytes (UTF-8 with or without BOM, as
//! Excel in zh-CN writes it; quoted fields; CRLF), check every row with the domain's rules
//! (`onsite_domain::import`) against the registry on this device, and import the new orders — with
//! the households they create and the appliances they add — in one store transaction, or nothing.

use std::collections::{BTreeMap, BTreeSet};

use onsite_domain::household::Household;
use onsite_domain::import::{self, Fresh, HouseholdMatch, Issue, Known, Verdict};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::{Code, DocId, DomainError, Millis};
use onsite_store::Store;
use sha2::{Digest, Sha256};

use super::{App, lock};
use crate::error::AppError;
use crate::view::*;

/// Largest file one import takes.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 5_000;

/// Why a file cannot be imported at all (row problems are in the preview instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("could not read '{0}': {1}")]
    Unreadable(String, String),
    #[error(
        "the file is not UTF-8 text; in Excel save it as \"CSV UTF-8 (逗号分隔)\", not \"CSV (逗号分隔)\""
    )]
    NotUtf8,
    #[error("the file is not valid CSV: {0}")]
    Malformed(String),
    #[error("the file has {0} bytes; at most {MAX_IMPORT_BYTES} are imported at once")]
    TooLarge(usize),
    #[error("the file has {0} rows; at most {MAX_IMPORT_ROWS} are imported at once")]
    TooManyRows(usize),
    #[error("the file has no rows to import under its header")]
    Empty,
    #[error("the file changed since its preview; preview it again before importing")]
    FileChanged,
    #[error("name the file: a path or its bytes")]
    NoSource,
}

impl ImportError {
    pub fn code(&self) -> Code {
        match self {
            ImportError::Unreadable(..) => Code::ImportUnreadable,
            ImportError::NotUtf8 => Code::ImportNotUtf8,
            ImportError::Malformed(_) => Code::ImportMalformed,
            ImportError::TooLarge(_) | ImportError::TooManyRows(_) => Code::ImportTooLarge,
            ImportError::Empty => Code::ImportEmpty,
            ImportError::FileChanged => Code::ImportFileChanged,
            ImportError::NoSource => Code::InputEmpty,
        }
    }
}

/// The file as cells, and its fingerprint.
struct Table {
    sha256: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn source_bytes(source: &ImportSource) -> Result<Vec<u8>, AppError> {
    match (&source.path, &source.bytes_base64) {
        (Some(path), _) => {
            let unreadable =
                |e: std::io::Error| ImportError::Unreadable(path.clone(), e.to_string());
            let size = std::fs::metadata(path).map_err(unreadable)?.len() as usize;
            if size > MAX_IMPORT_BYTES {
                return Err(ImportError::TooLarge(size).into());
            }
            Ok(std::fs::read(path).map_err(unreadable)?)
        }
        (None, Some(b64)) => super::decode_base64(b64),
        (None, None) => Err(ImportError::NoSource.into()),
    }
}

/// Split the bytes into cells: UTF-8 (a BOM is dropped), RFC 4180 quoting, LF or CRLF. Rows of
/// empty cells at the end (Excel writes them) are dropped.
fn read_table(bytes: &[u8]) -> Result<Table, ImportError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge(bytes.len()));
    }
    let sha256 = hex::encode(Sha256::digest(bytes));
    let text = std::str::from_utf8(bytes).map_err(|_| ImportError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records: Vec<Vec<String>> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Malformed(e.to_string()))?;
        records.push(record.iter().map(str::to_owned).collect());
        if records.len() > MAX_IMPORT_ROWS + 1 {
            return Err(ImportError::TooManyRows(records.len() - 1));
        }
    }
    while records
        .last()
        .is_some_and(|r| r.iter().all(|c| c.trim().is_empty()))
    {
        records.pop();
    }
    if records.len() < 2 {
        return Err(ImportError::Empty);
    }
    let header = records.remove(0);
    Ok(Table {
        sha256,
        header,
        rows: records,
    })
}

/// The registry households with the phone numbers of the file's rows, and the external
/// references already imported on this device.
fn known(
    store: &Store,
    header: &import::Header,
    rows: &[Vec<String>],
) -> Result<(Vec<Household>, BTreeMap<String, String>), AppError> {
    let phones: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| onsite_domain::phone::normalise(header.cell(r, import::Column::Phone)).ok())
        .collect();
    let mut ids = BTreeSet::new();
    for p in &phones {
        ids.extend(store.households_with_phone(p)?);
    }
    let mut households = Vec::with_capacity(ids.len());
    for id in ids {
        households.push(store.read::<Household>(&DocId::Household(id))?);
    }
    Ok((households, store.imported_refs()?))
}

fn issue_view(i: &Issue) -> ImportIssueView {
    ImportIssueView {
        code: i.code,
        column: i.column,
        value: i.value.clone(),
    }
}

fn row_view(header: &import::Header, cells: &[String], r: &import::CheckedRow) -> ImportRowView {
    use import::Column as C;
    let mut v = ImportRowView {
        row_no: r.row_no as u32,
        status: ImportRowStatus::Invalid,
        external_ref: header.cell(cells, C::ExternalRef).to_owned(),
        customer_name: header.cell(cells, C::CustomerName).to_owned(),
        phone: header.cell(cells, C::Phone).to_owned(),
        service_type: import::service_type(header.cell(cells, C::ServiceType)),
        household_id: None,
        household_name: None,
        order_no: None,
        issues: Vec::new(),
    };
    match &r.verdict {
        Verdict::New { row, household } => {
            v.status = ImportRowStatus::New;
            v.phone = row.phone.clone();
            if let HouseholdMatch::Existing { household_id, name } = household {
                v.household_id = Some(household_id.clone());
                v.household_name = Some(name.clone());
            }
        }
        Verdict::AlreadyImported { order_no, .. } => {
            v.status = ImportRowStatus::AlreadyImported;
            v.order_no = Some(order_no.clone());
            v.issues = vec![ImportIssueView {
                code: Code::ImportAlreadyImported,
                column: Some(C::ExternalRef),
                value: v.external_ref.clone(),
            }];
        }
        Verdict::Invalid(issues) => v.issues = issues.iter().map(issue_view).collect(),
    }
    v
}

fn preview(
    table: &Table,
    header: &import::Header,
    checked: &[import::CheckedRow],
) -> ImportPreview {
    let rows: Vec<ImportRowView> = checked
        .iter()
        .zip(&table.rows)
        .map(|(r, cells)| row_view(header, cells, r))
        .collect();
    let count = |s: ImportRowStatus| rows.iter().filter(|r| r.status == s).count() as u32;
    let new_households = checked
        .iter()
        .filter(|r| {
            matches!(
                r.verdict,
                Verdict::New {
                    household: HouseholdMatch::New,
                    ..
                }
            )
        })
        .count() as u32;
    let invalid = count(ImportRowStatus::Invalid);
    ImportPreview {
        file_sha256: table.sha256.clone(),
        file_issues: Vec::new(),
        total: rows.len() as u32,
        new_orders: count(ImportRowStatus::New),
        already_imported: count(ImportRowStatus::AlreadyImported),
        invalid,
        new_households,
        can_commit: invalid == 0,
        rows,
    }
}

impl App {
    /// Check a CSV file without importing anything: every row with its errors (code and column),
    /// the household each new order joins, and the counts. Offline, against this device's store.
    pub fn import_preview(&self, source: ImportSource) -> Result<ImportPreview, AppError> {
        self.dispatcher()?;
        let table = read_table(&source_bytes(&source)?)?;
        let header = match import::read_header(&table.header) {
            Ok(h) => h,
            Err(issues) => {
                return Ok(ImportPreview {
                    file_sha256: table.sha256,
                    file_issues: issues.iter().map(issue_view).collect(),
                    rows: Vec::new(),
                    total: table.rows.len() as u32,
                    new_orders: 0,
                    already_imported: 0,
                    invalid: 0,
                    new_households: 0,
                    can_commit: false,
                });
            }
        };
        let store = lock(&self.store);
        let (households, refs) = known(&store, &header, &table.rows)?;
        drop(store);
        let known = Known {
            households: &households,
            imported: &refs,
        };
        let checked = import::check(&header, &table.rows, known, self.utc_offset_ms);
        Ok(preview(&table, &header, &checked))
    }

    /// Import the file previewed with fingerprint `req.file_sha256`: every new order, with the
    /// households and appliances it needs, in one store transaction — or nothing, when the file
    /// changed (`import.file_changed`) or any row is invalid (`import.has_errors`). Rows imported
    /// before are skipped, so importing the same file twice creates no duplicates.
    pub fn import_commit(&self, req: ImportCommitRequest) -> Result<ImportResult, AppError> {
        self.dispatcher()?;
        let numbers = self.order_numbers()?;
        let table = read_table(&source_bytes(&req.source)?)?;
        if table.sha256 != req.file_sha256 {
            return Err(ImportError::FileChanged.into());
        }
        let header = import::read_header(&table.header)
            .map_err(|issues| DomainError::ImportHasErrors(issues.len()))?;
        let now = self.now();
        let result = {
            let mut store = lock(&self.store);
            let (households, refs) = known(&store, &header, &table.rows)?;
            let known = Known {
                households: &households,
                imported: &refs,
            };
            let checked = import::check(&header, &table.rows, known, self.utc_offset_ms);
            let new = checked
                .iter()
                .filter(|r| matches!(r.verdict, Verdict::New { .. }))
                .count();
            let invalid = checked
                .iter()
                .filter(|r| matches!(r.verdict, Verdict::Invalid(_)))
                .count();
            // Numbers are taken only once every row is valid, so a refused import uses none.
            if invalid > 0 {
                return Err(DomainError::ImportHasErrors(invalid).into());
            }
            // `build` asks for exactly one number per new row.
            let mut taken = numbers.take(&mut store, now, new)?.into_iter();
            let order_no = &mut |_| taken.next().unwrap_or_default();
            let mut id = || (self.new_id)();
            let fresh = Fresh {
                id: &mut id,
                order_no,
            };
            let plan = import::build(&checked, known, fresh, &SlaPolicy::PUBLISHED, now)?;
            write(&mut store, &plan, now)?;
            ImportResult {
                order_nos: plan.orders.iter().map(|o| o.order_no.clone()).collect(),
                skipped: checked
                    .iter()
                    .filter(|r| matches!(r.verdict, Verdict::AlreadyImported { .. }))
                    .count() as u32,
                new_households: plan.new_households.len() as u32,
            }
        };
        self.nudge();
        Ok(result)
    }
}

/// Write an import's households, appliances and orders in one transaction.
fn write(store: &mut Store, plan: &import::Import, now: Millis) -> Result<(), AppError> {
    store.batch(|b| {
        for h in &plan.new_households {
            b.create(&DocId::Household(h.household_id.clone()), h)?;
        }
        for (household_id, appliance) in &plan.added_appliances {
            b.update(
                &DocId::Household(household_id.clone()),
                |h: &mut Household| h.add_appliance(appliance.clone(), now),
            )?;
        }
        for o in &plan.orders {
            b.create(&DocId::Order(o.order_id.clone()), o)?;
        }
        Ok(())
    })?;
    Ok(())
}
