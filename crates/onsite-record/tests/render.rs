//! The record document: HTML content and language, PDF pages, embedded font and the QR code
//! read back from the rendered page.
//!
//! The PDF tests need `pdftoppm` and `pdffonts` (Debian `poppler-utils`) and Noto Sans CJK
//! (Debian `fonts-noto-cjk`). Set `ONSITE_SAMPLE_RECORD_DIR` to also write the sample record
//! (`sample-record.pdf`, `sample-record.png`) there.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use onsite_domain::reference::ItemKind;
use onsite_record::{Lang, RecordFont, render_html, render_pdf, verify_url};

fn font() -> &'static RecordFont {
    static FONT: OnceLock<RecordFont> = OnceLock::new();
    FONT.get_or_init(|| {
        RecordFont::debian().unwrap_or_else(|e| {
            panic!("{e} (test setup: apt-get install -y fonts-noto-cjk poppler-utils)")
        })
    })
}

fn fixture() -> &'static common::Fixture {
    static F: OnceLock<common::Fixture> = OnceLock::new();
    F.get_or_init(common::signed)
}

/// Every template item id and template id the visit refers to.
fn raw_ids(f: &common::Fixture) -> Vec<String> {
    let mut ids = Vec::new();
    for inst in f.visit.checklists.values() {
        let t = f.refs.library.get(&inst.template_id, inst.version).unwrap();
        ids.push(format!("{}@", t.id));
        ids.push(format!(">{}<", t.id));
        ids.extend(t.items.iter().map(|i| i.id.clone()));
    }
    ids
}

#[test]
fn html_in_chinese_carries_the_record_with_template_labels() {
    let f = fixture();
    let html = render_html(&f.input(Lang::ZhCn)).expect("signed record renders");
    let sig = f.visit.signature.as_ref().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("lang=\"zh-CN\""));
    for needle in [
        sig.record_hash.as_str(),
        "一票到底服务记录单",
        common::COMPANY,
        "WO-00000",
        "王建国",
        "HX5-2026-000123",
        "星级服务资格证号",
        "上门服务时出示“星级服务资格证”",
        "不喝用户的水",
        "一证件",
        "五个一",
        "维修作业规范",
        "电源电压",
        "221.5 V",
        "198–242 V",
        "0.35 MPa",
        "超出范围",
        "冷媒不足，已加注 R32",
        "室内机主板 KFR-35GW",
        "PCB-OLD-7781",
        "PCB-2026-55120",
        "上门服务费",
    ] {
        assert!(html.contains(needle), "zh-CN record must show {needle:?}");
    }
    let total = f.visit.fees_total_cents() + f.visit.parts_total_cents();
    let total_text = format!("¥{}.{:02}", total / 100, total % 100);
    assert!(html.contains(&total_text), "total {total_text} shown");
    assert!(html.contains("★★★★★"), "rating stars");
    assert!(html.contains("师傅很专业"), "customer comment");
    assert!(html.contains("用户已确认"), "confirmations shown");
    assert!(html.contains("data:image/png;base64,"), "signature inline");
    assert!(html.contains("<svg"), "QR inline SVG");
    let url = verify_url(common::RELAY, "WO-00000", &sig.record_hash);
    assert!(html.contains(&url), "verification URL printed");
    assert!(html.contains("校验通过"), "valid status");
    for id in raw_ids(f) {
        assert!(
            !html.contains(&id),
            "raw template id {id:?} shown where a label exists"
        );
    }
    assert!(
        !html.contains("src=\"http"),
        "the page must not fetch anything: it renders offline"
    );
}

#[test]
fn html_in_english_uses_english_labels() {
    let f = fixture();
    let html = render_html(&f.input(Lang::En)).unwrap();
    assert!(html.contains("lang=\"en\""));
    for needle in [
        "Service record",
        "Show the star-service qualification certificate on arrival",
        "Did not drink the customer&#39;s water",
        "Supply voltage",
        "Insulation resistance",
        "550 MΩ",
        "Indoor control board KFR-35GW",
        "Call-out fee",
        "Star-service certificate no.",
        "Repair procedure",
    ] {
        assert!(html.contains(needle), "en record must show {needle:?}");
    }
    for zh in ["电源电压", "维修作业规范", "上门服务费", "工单号"] {
        assert!(
            !html.contains(zh),
            "en record must not show the zh label {zh:?}"
        );
    }
    for id in raw_ids(f) {
        assert!(!html.contains(&id), "raw template id {id:?} shown");
    }
}

#[test]
fn every_template_item_of_the_visit_appears_by_label() {
    let f = fixture();
    for lang in [Lang::ZhCn, Lang::En] {
        let html = render_html(&f.input(lang)).unwrap();
        for inst in f.visit.checklists.values() {
            let t = f.refs.library.get(&inst.template_id, inst.version).unwrap();
            for item in &t.items {
                let label = onsite_record::escape_html(item.label.get(lang.tag()));
                assert!(html.contains(&label), "{lang:?}: item {} missing", item.id);
                if let ItemKind::Reading { unit, .. } = &item.kind {
                    assert!(html.contains(unit.as_str()), "unit {unit} shown");
                }
            }
        }
    }
}

#[test]
fn html_escapes_document_text() {
    let f = fixture();
    let mut order = f.order.clone();
    order.customer.name = "<script>alert(1)</script>".into();
    let input = onsite_record::RecordInput {
        order: &order,
        ..f.input(Lang::En)
    };
    let html = render_html(&input).unwrap();
    assert!(!html.contains("<script>"), "customer text must be escaped");
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn a_record_modified_after_signing_says_so() {
    let f = fixture();
    let mut visit = f.visit.clone();
    visit.parts[1].replacement_serial = "PCB-FORGED".into();
    let input = onsite_record::RecordInput {
        visit: &visit,
        ..f.input(Lang::ZhCn)
    };
    let html = render_html(&input).unwrap();
    assert!(html.contains("本记录在签字后被修改"), "tamper banner");
    assert!(
        html.contains("被修改的部分：配件"),
        "names the changed section"
    );
    assert!(!html.contains("校验通过"));
}

#[test]
fn unsigned_visits_and_foreign_signature_images_are_refused() {
    let f = fixture();
    let mut unsigned = f.visit.clone();
    unsigned.signature = None;
    let input = onsite_record::RecordInput {
        visit: &unsigned,
        ..f.input(Lang::ZhCn)
    };
    assert_eq!(render_html(&input).unwrap_err().code(), "record.not_signed");
    let other = onsite_record::normalise_signature(&common::pad_png(500, 500)).unwrap();
    let input = onsite_record::RecordInput {
        signature_png: &other.png,
        ..f.input(Lang::ZhCn)
    };
    assert_eq!(
        render_html(&input).unwrap_err().code(),
        "record.signature_mismatch",
        "the image shown must be the image signed"
    );
    assert_eq!(
        render_pdf(&input, font()).unwrap_err().code(),
        "record.signature_mismatch"
    );
}

fn tool(name: &str) -> Command {
    let probe = Command::new(name).arg("-v").output();
    assert!(
        probe.is_ok(),
        "{name} not found: apt-get install -y poppler-utils"
    );
    Command::new(name)
}

/// Rasterise every page into `dir`; returns the PNG paths in page order.
fn rasterise(pdf: &Path, dpi: u32, dir: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    let prefix = dir.join("page");
    let status = tool("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("run pdftoppm");
    assert!(status.success(), "pdftoppm must read the PDF");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("page"))
        .collect();
    pages.sort();
    pages
}

fn decode_qr(png: &Path) -> Vec<String> {
    let img = image::open(png).expect("page PNG").to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, content)| content))
        .collect()
}

fn check_pdf(lang: Lang) {
    let f = fixture();
    let pdf = render_pdf(&f.input(lang), font()).expect("PDF renders");
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert!(
        pdf.missing_glyphs.is_empty(),
        "{lang:?}: the font lacks {:?}; they would print as boxes",
        pdf.missing_glyphs
    );
    assert!(
        pdf.bytes.len() < 400_000,
        "{lang:?}: {} bytes: the CJK font must be subset, not embedded whole",
        pdf.bytes.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.pdf");
    std::fs::write(&path, &pdf.bytes).unwrap();

    let fonts = tool("pdffonts").arg(&path).output().expect("run pdffonts");
    let listing = String::from_utf8_lossy(&fonts.stdout);
    let font_lines: Vec<&str> = listing.lines().skip(2).collect();
    assert!(!font_lines.is_empty(), "a font is embedded: {listing}");
    for l in &font_lines {
        let cols: Vec<&str> = l.split_whitespace().collect();
        let n = cols.len();
        assert!(
            n >= 5 && cols[n - 5] == "yes",
            "every font must be embedded: {l}"
        );
    }

    let pages = rasterise(&path, 200, &dir.path().join("200dpi"));
    if let Ok(dir) = std::env::var("ONSITE_SAMPLE_RECORD_DIR")
        && lang == Lang::ZhCn
    {
        let out = PathBuf::from(dir);
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("sample-record.pdf"), &pdf.bytes).unwrap();
        let one = rasterise(&path, 110, &path.with_file_name("110dpi"));
        std::fs::copy(&one[0], out.join("sample-record.png")).unwrap();
    }
    assert_eq!(
        pages.len(),
        pdf.pages,
        "{lang:?}: pdftoppm page count equals the rendered page count"
    );
    assert!(
        (1..=4).contains(&pages.len()),
        "{lang:?}: a one-ticket record fits in a few pages, got {}",
        pages.len()
    );
    let sig = f.visit.signature.as_ref().unwrap();
    let expected = verify_url(common::RELAY, &f.order.order_no, &sig.record_hash);
    assert_eq!(pdf.verify_url, expected);
    assert_eq!(pdf.hash, sig.record_hash);
    let found = decode_qr(&pages[0]);
    assert_eq!(
        found,
        vec![expected],
        "{lang:?}: the QR code on page 1 decodes to the verification URL"
    );
}

#[test]
fn pdf_in_chinese_renders_pages_and_its_qr_decodes_to_the_verify_url() {
    check_pdf(Lang::ZhCn);
}

#[test]
fn pdf_in_english_renders_pages_and_its_qr_decodes_to_the_verify_url() {
    check_pdf(Lang::En);
}
