//! The console's tables saved as CSV (UTF-8 with BOM) or XLSX in the export folder. The cells,
//! times and the formula-injection rule are `onsite_domain::export`; here are the writers, the
//! atomic save and the tables built from the same views the screens show. Another table (e.g. the
//! statistics) is exported by building an [`onsite_domain::export::Table`] and calling
//! [`App::save_table`].

use std::path::Path;

use onsite_domain::Millis;
use onsite_domain::export::{self, Cell, Table};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use super::App;
use crate::error::AppError;
use crate::view::*;

/// The byte-order mark that makes Excel read a CSV as UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The table as CSV: BOM, header row, one line per row; text neutralised (`export::csv_text`).
pub fn csv_bytes(table: &Table) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(UTF8_BOM.to_vec());
    w.write_record(&table.headers).map_err(|e| e.to_string())?;
    for row in &table.rows {
        let cells = row
            .iter()
            .map(|c| export::cell_text(c, table.utc_offset_ms));
        w.write_record(cells).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// Days from Excel's epoch (1899-12-30) to the Unix epoch.
const EXCEL_UNIX_EPOCH_DAYS: f64 = 25_569.0;

/// The table as an XLSX workbook with one sheet. Numbers, money, rates and times are number
/// cells with a display format; text is always a string cell (never a formula), kept exactly as
/// typed: a string cell is inert, so it needs no `'` prefix (that is for CSV). The workbook's
/// creation time is `created_ms`, so the same table at the same time gives the same file.
pub fn xlsx_bytes(table: &Table, created_ms: Millis) -> Result<Vec<u8>, String> {
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let created = ExcelDateTime::from_timestamp(created_ms.div_euclid(1000)).map_err(err)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(&table.title)).map_err(err)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let rate = Format::new().set_num_format("0.0%");
    let decimal = Format::new().set_num_format("0.0");
    let time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (c, h) in table.headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, h, &bold)
            .map_err(err)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => sheet.write_string(r, c, t),
                Cell::Int(n) => sheet.write_number(r, c, *n as f64),
                Cell::Money(cents) => {
                    sheet.write_number_with_format(r, c, *cents as f64 / 100.0, &money)
                }
                Cell::DateTime(at) => {
                    let days = (at + table.utc_offset_ms) as f64 / 86_400_000.0;
                    sheet.write_number_with_format(r, c, days + EXCEL_UNIX_EPOCH_DAYS, &time)
                }
                Cell::Rate(x) => sheet.write_number_with_format(r, c, *x, &rate),
                Cell::Decimal(x) => sheet.write_number_with_format(r, c, *x, &decimal),
                Cell::Empty => Ok(&mut *sheet),
            }
            .map_err(err)?;
        }
    }
    book.save_to_buffer().map_err(err)
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    let name: String = title
        .chars()
        .filter(|c| !"[]:*?/\\'".contains(*c))
        .take(31)
        .collect();
    if name.trim().is_empty() {
        "Sheet1".to_owned()
    } else {
        name
    }
}

/// Write `bytes` to `dir/file_name` whole or not at all: into `.<file_name>.part`, then renamed.
pub(super) fn save_atomically(
    dir: &Path,
    file_name: &str,
    bytes: &[u8],
) -> Result<std::path::PathBuf, AppError> {
    let path = dir.join(file_name);
    let part = dir.join(format!(".{file_name}.part"));
    let failed = |e: std::io::Error| AppError::Export(path.display().to_string(), e.to_string());
    std::fs::create_dir_all(dir).map_err(failed)?;
    std::fs::write(&part, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&part);
        failed(e)
    })?;
    std::fs::rename(&part, &path).map_err(|e| {
        let _ = std::fs::remove_file(&part);
        failed(e)
    })?;
    Ok(path)
}

/// Header language of an export.
#[derive(Clone, Copy)]
pub(super) enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub(super) fn parse(tag: &str) -> Result<Lang, AppError> {
        match tag {
            "zh-CN" => Ok(Lang::ZhCn),
            "en" => Ok(Lang::En),
            other => Err(AppError::UnsupportedLanguage(other.to_owned())),
        }
    }

    pub(super) fn pick(self, zh: &str, en: &str) -> String {
        match self {
            Lang::ZhCn => zh.to_owned(),
            Lang::En => en.to_owned(),
        }
    }

    fn yes_no(self, yes: bool) -> Cell {
        let (zh, en) = if yes { ("是", "yes") } else { ("否", "no") };
        Cell::Text(self.pick(zh, en))
    }

    pub(super) fn headers(self, pairs: &[(&str, &str)]) -> Vec<String> {
        pairs.iter().map(|(zh, en)| self.pick(zh, en)).collect()
    }
}

impl App {
    /// Save one of the console's tables (dispatchers and admins) in the export folder (see
    /// [`App::with_export_dir`]) as `<table>-<local date>.csv|xlsx`.
    pub fn export_table(&self, req: ExportRequest) -> Result<SavedExportView, AppError> {
        self.dispatcher()?;
        let lang = Lang::parse(&req.language)?;
        let table = match req.table {
            ExportTableKind::Completions => self.completions_table(lang)?,
            ExportTableKind::StockOverview => self.stock_overview_table(lang)?,
            ExportTableKind::TechnicianStock => {
                let id = req
                    .technician_id
                    .as_deref()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or(AppError::Empty("technician whose stock to export"))?;
                self.technician_stock_table(id, lang)?
            }
            ExportTableKind::FollowUps => self.follow_ups_table(lang)?,
            ExportTableKind::Reminders => self.reminders_table(lang)?,
        };
        self.save_table(&table, req.format)
    }

    /// Save `table` in the export folder as CSV or XLSX; the file appears whole or not at all.
    pub fn save_table(
        &self,
        table: &Table,
        format: ExportFormat,
    ) -> Result<SavedExportView, AppError> {
        let now = self.now();
        let (ext, bytes) = match format {
            ExportFormat::Csv => ("csv", csv_bytes(table)),
            ExportFormat::Xlsx => ("xlsx", xlsx_bytes(table, now)),
        };
        let file_name = export::file_name(&table.name, now, self.utc_offset_ms, ext);
        let bytes = bytes.map_err(|e| {
            AppError::Export(self.export_dir.join(&file_name).display().to_string(), e)
        })?;
        let path = save_atomically(&self.export_dir, &file_name, &bytes)?;
        Ok(SavedExportView {
            path: path.display().to_string(),
            file_name,
            bytes: bytes.len() as u64,
            rows: table.rows.len() as u32,
        })
    }

    fn completions_table(&self, lang: Lang) -> Result<Table, AppError> {
        let list = self.completions()?;
        let rows = list
            .completions
            .into_iter()
            .map(|c| {
                vec![
                    Cell::Text(c.order_no),
                    Cell::Text(c.technician_name),
                    Cell::Text(c.signer_name),
                    c.stars.map_or(Cell::Empty, |s| Cell::Int(s.into())),
                    Cell::DateTime(c.signed_at_ms),
                    lang.yes_no(c.verified),
                    Cell::Text(c.record_hash),
                ]
            })
            .collect();
        Ok(Table {
            name: "completions".to_owned(),
            title: lang.pick("完工记录", "Completions"),
            headers: lang.headers(&[
                ("工单号", "Order"),
                ("技师", "Technician"),
                ("签字人", "Signed by"),
                ("评分", "Stars"),
                ("签字时间", "Signed at"),
                ("已验证", "Verified"),
                ("记录哈希", "Record hash"),
            ]),
            rows,
            utc_offset_ms: self.utc_offset_ms,
        })
    }

    fn follow_ups_table(&self, lang: Lang) -> Result<Table, AppError> {
        let rows = self
            .follow_ups()?
            .follow_ups
            .into_iter()
            .map(|f| {
                vec![
                    Cell::Text(f.order_no),
                    Cell::Text(f.customer_name),
                    Cell::Text(f.phone),
                    Cell::Text(f.technician_name),
                    Cell::DateTime(f.signed_at_ms),
                    Cell::DateTime(f.due_at_ms),
                    lang.yes_no(f.overdue),
                    Cell::Int(f.attempts.into()),
                ]
            })
            .collect();
        Ok(Table {
            name: "follow-ups".to_owned(),
            title: lang.pick("回访", "Follow-up calls"),
            headers: lang.headers(&[
                ("工单号", "Order"),
                ("客户", "Customer"),
                ("电话", "Phone"),
                ("技师", "Technician"),
                ("签字时间", "Signed at"),
                ("回访期限", "Call by"),
                ("已逾期", "Overdue"),
                ("未接通次数", "Calls without answer"),
            ]),
            rows,
            utc_offset_ms: self.utc_offset_ms,
        })
    }

    fn reminders_table(&self, lang: Lang) -> Result<Table, AppError> {
        let rows = self
            .reminders()?
            .due
            .into_iter()
            .map(|r| {
                vec![
                    Cell::Text(r.due_date),
                    Cell::Text(r.customer_name),
                    Cell::Text(r.phone),
                    Cell::Text(r.address),
                    Cell::Text(format!("{} {} {}", r.category, r.brand, r.model)),
                    Cell::Text(r.task),
                    Cell::Int(r.months.into()),
                ]
            })
            .collect();
        Ok(Table {
            name: "reminders".to_owned(),
            title: lang.pick("保养提醒", "Maintenance reminders"),
            headers: lang.headers(&[
                ("到期日", "Due"),
                ("客户", "Customer"),
                ("电话", "Phone"),
                ("地址", "Address"),
                ("家电", "Appliance"),
                ("保养内容", "Task"),
                ("周期（月）", "Every (months)"),
            ]),
            rows,
            utc_offset_ms: self.utc_offset_ms,
        })
    }

    fn stock_overview_table(&self, lang: Lang) -> Result<Table, AppError> {
        let overview = self.stock_overview()?;
        let rows = overview
            .technicians
            .into_iter()
            .map(|t| {
                vec![
                    Cell::Text(t.technician_id),
                    Cell::Text(t.technician_name),
                    Cell::Int(t.low_count.into()),
                    Cell::Int(t.negative_count.into()),
                ]
            })
            .collect();
        Ok(Table {
            name: "stock-overview".to_owned(),
            title: lang.pick("库存总览", "Stock overview"),
            headers: lang.headers(&[
                ("技师编号", "Technician ID"),
                ("技师", "Technician"),
                ("低库存", "Low"),
                ("负库存", "Negative"),
            ]),
            rows,
            utc_offset_ms: self.utc_offset_ms,
        })
    }

    fn technician_stock_table(&self, technician_id: &str, lang: Lang) -> Result<Table, AppError> {
        let stock = self.technician_stock(technician_id)?;
        let rows = stock
            .lines
            .into_iter()
            .map(|l| {
                vec![
                    Cell::Text(l.part_no),
                    Cell::Text(lang.pick(&l.name_zh_cn, &l.name_en)),
                    Cell::Int(l.on_hand),
                    lang.yes_no(l.low),
                    lang.yes_no(l.negative),
                ]
            })
            .collect();
        Ok(Table {
            name: format!("stock-{technician_id}"),
            title: match lang {
                Lang::ZhCn => format!("库存 {}", stock.technician_name),
                Lang::En => format!("Stock {}", stock.technician_name),
            },
            headers: lang.headers(&[
                ("配件号", "Part no."),
                ("名称", "Name"),
                ("在手", "On hand"),
                ("低库存", "Low"),
                ("负库存", "Negative"),
            ]),
            rows,
            utc_offset_ms: self.utc_offset_ms,
        })
    }
}
