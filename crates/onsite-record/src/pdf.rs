//! The record as an A4 PDF (printpdf), with a CJK font subset into the file so Chinese text
//! prints anywhere, the QR code drawn as vector modules, and the signature as a grey image.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use printpdf::{
    Color, FontId, Line, LinePoint, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Pt, RawImage, RawImageData, RawImageFormat, Rect, Rgb,
    TextItem, XObjectId, XObjectTransform,
};

use crate::error::RecordError;
use crate::i18n::Lang;
use crate::view::{self, Align, RecordInput, RecordView, RowStyle, Table};

/// Where Debian's `fonts-noto-cjk` package puts Noto Sans CJK Regular.
pub const NOTO_CJK_REGULAR: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
/// Where Debian's `fonts-noto-cjk` package puts Noto Sans CJK Bold.
pub const NOTO_CJK_BOLD: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc";
/// Face index of Noto Sans CJK **SC** (Simplified Chinese) in those collections.
pub const NOTO_CJK_SC_INDEX: usize = 2;

/// The font a PDF record is set in: a regular face and, optionally, a bold one.
#[derive(Debug, Clone)]
pub struct RecordFont {
    regular: ParsedFont,
    bold: Option<ParsedFont>,
}

fn parse_font(bytes: &[u8], index: usize) -> Result<ParsedFont, RecordError> {
    let mut warnings = Vec::new();
    let font = ParsedFont::from_bytes(bytes, index, &mut warnings).ok_or_else(|| {
        RecordError::FontUnreadable(format!("face {index} does not parse: {warnings:?}"))
    })?;
    if font.lookup_glyph_index('中' as u32).is_none() {
        return Err(RecordError::FontUnreadable(format!(
            "face {index} has no Chinese glyphs"
        )));
    }
    Ok(font)
}

fn read_font_file(path: &Path) -> Result<Vec<u8>, RecordError> {
    std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            RecordError::FontMissing {
                path: path.to_path_buf(),
            }
        } else {
            RecordError::FontUnreadable(format!("{}: {e}", path.display()))
        }
    })
}

impl RecordFont {
    /// Noto Sans CJK SC from Debian's `fonts-noto-cjk` at its standard path; bold when present.
    pub fn debian() -> Result<RecordFont, RecordError> {
        let regular = read_font_file(Path::new(NOTO_CJK_REGULAR))?;
        let mut font = RecordFont::from_bytes(&regular, NOTO_CJK_SC_INDEX)?;
        if let Ok(bold) = read_font_file(Path::new(NOTO_CJK_BOLD)) {
            font = font.with_bold(&bold, NOTO_CJK_SC_INDEX)?;
        }
        Ok(font)
    }

    /// A regular face from font bytes (TTF, OTF, or a TTC/OTC with `index`).
    pub fn from_bytes(bytes: &[u8], index: usize) -> Result<RecordFont, RecordError> {
        Ok(RecordFont {
            regular: parse_font(bytes, index)?,
            bold: None,
        })
    }

    /// Load a regular face from a file.
    pub fn from_file(path: impl Into<PathBuf>, index: usize) -> Result<RecordFont, RecordError> {
        RecordFont::from_bytes(&read_font_file(&path.into())?, index)
    }

    /// Add a bold face for headings.
    pub fn with_bold(mut self, bytes: &[u8], index: usize) -> Result<RecordFont, RecordError> {
        self.bold = Some(parse_font(bytes, index)?);
        Ok(self)
    }

    /// Characters of `text` the regular face has no glyph for (they would print as boxes).
    pub fn missing_glyphs(&self, text: &str) -> Vec<char> {
        let mut out: Vec<char> = text
            .chars()
            .filter(|c| !c.is_control() && self.regular.lookup_glyph_index(*c as u32).is_none())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    fn face(&self, bold: bool) -> &ParsedFont {
        match (&self.bold, bold) {
            (Some(b), true) => b,
            _ => &self.regular,
        }
    }

    fn width(&self, s: &str, size: f32, bold: bool) -> f32 {
        let f = self.face(bold);
        let upem = f32::from(f.units_per_em.max(1));
        s.chars()
            .map(|c| {
                let gid = f.lookup_glyph_index(c as u32).unwrap_or(0);
                f32::from(f.get_glyph_width(gid).unwrap_or(f.units_per_em / 2)) / upem * size
            })
            .sum()
    }
}

/// A new font holding only the glyphs of `chars` (plus `.notdef`), with a Unicode cmap for them,
/// cut from `face` with allsorts. This is what gets embedded: a record uses a few hundred of the
/// 65 000 glyphs of a CJK face.
fn subset_face(face: &ParsedFont, chars: &BTreeSet<char>) -> Result<ParsedFont, RecordError> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile, subset};

    let fail = |what: &str, e: &dyn std::fmt::Display| {
        RecordError::FontUnreadable(format!("subsetting failed at {what}: {e}"))
    };
    let mut ids: Vec<u16> = chars
        .iter()
        .filter_map(|c| face.lookup_glyph_index(*c as u32))
        .filter(|g| *g != 0)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.insert(0, 0);
    let file = ReadScope::new(&face.original_bytes)
        .read::<FontData<'_>>()
        .map_err(|e| fail("reading", &e))?;
    let provider = file
        .table_provider(face.font_index as usize)
        .map_err(|e| fail("selecting the face", &e))?;
    let bytes = subset(
        &provider,
        &ids,
        &SubsetProfile::Minimal,
        CmapTarget::Unicode,
    )
    .map_err(|e| fail("cutting glyphs", &e))?;
    let mut warnings = Vec::new();
    ParsedFont::from_bytes(&bytes, 0, &mut warnings)
        .ok_or_else(|| fail("re-reading the subset", &format!("{warnings:?}")))
}

/// A rendered PDF record.
#[derive(Debug, Clone)]
pub struct RenderedPdf {
    pub bytes: Vec<u8>,
    /// Number of A4 pages.
    pub pages: usize,
    /// The signed record hash printed on it.
    pub hash: String,
    /// The verification URL in its QR code.
    pub verify_url: String,
    /// Characters of the record the font has no glyph for (printed as boxes); empty when the
    /// font covers everything.
    pub missing_glyphs: Vec<char>,
}

/// Render the record as a PDF in `input.lang`.
pub fn render_pdf(input: &RecordInput<'_>, font: &RecordFont) -> Result<RenderedPdf, RecordError> {
    let v = view::build(input)?;
    let mut doc = PdfDocument::new(&format!("{} {}", v.words.title, v.order_no));
    let reg = FontId("F-regular".to_owned());
    let bold = if font.bold.is_some() {
        FontId("F-bold".to_owned())
    } else {
        reg.clone()
    };
    let sig_image = doc.add_image(&RawImage {
        pixels: RawImageData::U8(v.signature.grey.clone()),
        width: v.signature.width as usize,
        height: v.signature.height as usize,
        data_format: RawImageFormat::R8,
        tag: Vec::new(),
    });
    let mut w = Writer {
        font,
        reg: reg.clone(),
        bold: bold.clone(),
        pages: Vec::new(),
        ops: Vec::new(),
        y: PAGE_H - MARGIN,
        used: [BTreeSet::new(), BTreeSet::new()],
    };
    w.layout(&v, sig_image);
    let (pages, [used_regular, used_bold]) = w.finish(&v);
    let faces = [
        (reg.clone(), &font.regular, used_regular),
        (bold.clone(), font.face(true), used_bold),
    ];
    for (id, face, used) in faces {
        if used.is_empty() || doc.resources.fonts.map.contains_key(&id) {
            continue;
        }
        let sub = subset_face(face, &used)?;
        doc.resources.fonts.map.insert(id, PdfFont::new(sub));
    }
    let count = pages.len();
    let pdf_pages: Vec<PdfPage> = pages
        .into_iter()
        .map(|ops| PdfPage::new(Pt(PAGE_W).into(), Pt(PAGE_H).into(), ops))
        .collect();
    let opts = PdfSaveOptions {
        // The faces are already subset by `subset_face`; printpdf embeds them as they are.
        subset_fonts: false,
        ..PdfSaveOptions::default()
    };
    let mut warnings = Vec::new();
    let bytes = doc.with_pages(pdf_pages).save(&opts, &mut warnings);
    Ok(RenderedPdf {
        bytes,
        pages: count,
        hash: v.hash.clone(),
        verify_url: v.verify_url.clone(),
        missing_glyphs: font.missing_glyphs(&v.all_text()),
    })
}

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 40.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Content stops here; the footer lives below.
const BOTTOM: f32 = MARGIN + 18.0;
const BODY: f32 = 8.5;
const LEADING: f32 = 11.0;
const PAD: f32 = 3.0;
const QR_SIZE: f32 = 110.0;

type Rgb3 = (f32, f32, f32);
const BLACK: Rgb3 = (0.07, 0.07, 0.07);
const GREY: Rgb3 = (0.35, 0.35, 0.35);
const RULE: Rgb3 = (0.8, 0.8, 0.8);
const HEAD_BG: Rgb3 = (0.93, 0.93, 0.93);
const GROUP_BG: Rgb3 = (0.97, 0.97, 0.97);
const WARN_BG: Rgb3 = (1.0, 0.95, 0.88);
const OK_BG: Rgb3 = (0.91, 0.96, 0.91);
const OK_FG: Rgb3 = (0.1, 0.37, 0.12);
const BAD_BG: Rgb3 = (1.0, 0.92, 0.93);
const BAD_FG: Rgb3 = (0.72, 0.11, 0.11);

fn rgb(c: Rgb3) -> Color {
    Color::Rgb(Rgb::new(c.0, c.1, c.2, None))
}

struct Writer<'f> {
    font: &'f RecordFont,
    reg: FontId,
    bold: FontId,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    /// Top of the free space on the current page, in pt from the bottom.
    y: f32,
    /// Characters set in the regular and in the bold face: what the font subsets must hold.
    used: [BTreeSet<char>; 2],
}

/// Is `c` a character after which a line may break anywhere (CJK and full-width punctuation)?
fn breaks_anywhere(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

impl Writer<'_> {
    fn text(&mut self, x: f32, baseline: f32, s: &str, size: f32, bold: bool, color: Rgb3) {
        if s.is_empty() {
            return;
        }
        let font = if bold { &self.bold } else { &self.reg };
        let slot = usize::from(bold && self.bold != self.reg);
        self.used[slot].extend(s.chars());
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(font.clone()),
                size: Pt(size),
            },
            Op::SetFillColor { col: rgb(color) },
            Op::SetTextCursor {
                pos: Point {
                    x: Pt(x),
                    y: Pt(baseline),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text(s.to_owned())],
            },
            Op::EndTextSection,
        ]);
    }

    fn rect(&mut self, x: f32, bottom: f32, width: f32, height: f32, color: Rgb3) {
        self.ops.push(Op::SetFillColor { col: rgb(color) });
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Pt(x),
                y: Pt(bottom),
                width: Pt(width),
                height: Pt(height),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    fn hline(&mut self, x0: f32, x1: f32, y: f32, thickness: f32, color: Rgb3) {
        self.ops.push(Op::SetOutlineColor { col: rgb(color) });
        self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    LinePoint {
                        p: Point {
                            x: Pt(x0),
                            y: Pt(y),
                        },
                        bezier: false,
                    },
                    LinePoint {
                        p: Point {
                            x: Pt(x1),
                            y: Pt(y),
                        },
                        bezier: false,
                    },
                ],
                is_closed: false,
            },
        });
    }

    fn width(&self, s: &str, size: f32, bold: bool) -> f32 {
        self.font.width(s, size, bold)
    }

    /// Greedy line breaking: after spaces, around CJK characters, and inside over-long words.
    fn wrap(&self, s: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in s.split('\n') {
            // Tokens: runs of non-CJK non-space characters, single CJK characters, single spaces.
            let mut tokens: Vec<String> = Vec::new();
            for c in para.chars() {
                let glue = !c.is_whitespace() && !breaks_anywhere(c);
                match tokens.last_mut() {
                    Some(t)
                        if glue
                            && t.chars()
                                .last()
                                .is_some_and(|p| !p.is_whitespace() && !breaks_anywhere(p)) =>
                    {
                        t.push(c)
                    }
                    _ => tokens.push(c.to_string()),
                }
            }
            let mut line = String::new();
            for tok in tokens {
                let candidate = format!("{line}{tok}");
                if self.width(&candidate, size, bold) <= max {
                    line = candidate;
                    continue;
                }
                if !line.trim().is_empty() {
                    lines.push(line.trim_end().to_owned());
                }
                line = String::new();
                let tok = tok.trim_start();
                for c in tok.chars() {
                    let candidate = format!("{line}{c}");
                    if self.width(&candidate, size, bold) > max && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                    }
                    line.push(c);
                }
            }
            lines.push(line.trim_end().to_owned());
        }
        lines
    }

    fn new_page(&mut self) {
        let ops = std::mem::take(&mut self.ops);
        self.pages.push(ops);
        self.y = PAGE_H - MARGIN;
    }

    /// Start a new page unless `height` still fits on this one.
    fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    /// The record top to bottom: heading with the QR code, verification status, facts,
    /// signature, the view's tables, verification details.
    fn layout(&mut self, v: &RecordView, sig: XObjectId) {
        self.heading(v);
        self.status_banner(v);
        self.facts(v);
        self.signature(v, sig);
        for t in &v.tables {
            self.table(t);
        }
        self.verification(v);
    }

    /// Company, title and order number, with the QR code (4-module quiet zone) top right.
    fn heading(&mut self, v: &RecordView) {
        let w = v.words;
        let top = self.y;
        // QR code, top right, with a 4-module quiet zone.
        let module = QR_SIZE / (v.qr.width + 8) as f32;
        let qx = MARGIN + CONTENT_W - QR_SIZE;
        let qy = top - QR_SIZE;
        for (x, y, len) in v.qr.runs() {
            self.rect(
                qx + (x + 4) as f32 * module,
                qy + QR_SIZE - (y + 5) as f32 * module,
                len as f32 * module,
                module,
                (0.0, 0.0, 0.0),
            );
        }
        let caption = w.scan_to_verify;
        let cw = self.width(caption, 7.0, false);
        self.text(
            qx + (QR_SIZE - cw) / 2.0,
            qy - 8.0,
            caption,
            7.0,
            false,
            GREY,
        );
        // Heading, left of the QR code.
        let head_w = CONTENT_W - QR_SIZE - 12.0;
        let mut y = top - 14.0;
        for line in self.wrap(&v.company, 14.0, true, head_w) {
            self.text(MARGIN, y, &line, 14.0, true, BLACK);
            y -= 18.0;
        }
        y -= 8.0;
        self.text(MARGIN, y, w.title, 20.0, true, BLACK);
        y -= 22.0;
        let order = format!("{}: {}", w.order_no, v.order_no);
        self.text(MARGIN, y, &order, 11.0, false, BLACK);
        self.y = (y - 10.0).min(qy - 16.0);
        self.hline(MARGIN, MARGIN + CONTENT_W, self.y, 1.2, BLACK);
        self.y -= 8.0;
    }

    /// Verification status banner.
    fn status_banner(&mut self, v: &RecordView) {
        let (bg, fg) = if v.status.valid {
            (OK_BG, OK_FG)
        } else {
            (BAD_BG, BAD_FG)
        };
        let mut lines: Vec<(String, bool)> = self
            .wrap(&v.status.text, 10.0, true, CONTENT_W - 12.0)
            .into_iter()
            .map(|l| (l, true))
            .collect();
        if let Some(d) = &v.status.detail {
            lines.extend(
                self.wrap(d, BODY, false, CONTENT_W - 12.0)
                    .into_iter()
                    .map(|l| (l, false)),
            );
        }
        let h = lines.len() as f32 * 13.0 + 8.0;
        self.rect(MARGIN, self.y - h, CONTENT_W, h, bg);
        let mut by = self.y - 14.0;
        for (l, b) in lines {
            self.text(MARGIN + 6.0, by, &l, if b { 10.0 } else { BODY }, b, fg);
            by -= 13.0;
        }
        self.y -= h + 10.0;
    }

    /// Facts: two label/value pairs per row.
    fn facts(&mut self, v: &RecordView) {
        let half = CONTENT_W / 2.0;
        let label_w = 78.0;
        for pair in v.facts.chunks(2) {
            let cells: Vec<(Vec<String>, Vec<String>)> = pair
                .iter()
                .map(|(k, val)| {
                    (
                        self.wrap(k, BODY, false, label_w - 4.0),
                        self.wrap(val, 9.0, false, half - label_w - 8.0),
                    )
                })
                .collect();
            let n = cells
                .iter()
                .map(|(a, b)| a.len().max(b.len()))
                .max()
                .unwrap_or(1);
            let h = n as f32 * LEADING + 4.0;
            self.ensure(h);
            for (i, (k, val)) in cells.iter().enumerate() {
                let x = MARGIN + i as f32 * half;
                for (j, l) in k.iter().enumerate() {
                    self.text(x, self.y - 10.0 - j as f32 * LEADING, l, BODY, false, GREY);
                }
                for (j, l) in val.iter().enumerate() {
                    self.text(
                        x + label_w,
                        self.y - 10.0 - j as f32 * LEADING,
                        l,
                        9.0,
                        false,
                        BLACK,
                    );
                }
            }
            self.y -= h;
        }
    }

    /// The customer's signature image with who signed and when.
    fn signature(&mut self, v: &RecordView, sig: XObjectId) {
        let w = v.words;
        let img_h = 54.0;
        let dpi = v.signature.height as f32 / img_h * 72.0;
        let img_w = v.signature.width as f32 / dpi * 72.0;
        self.ensure(20.0 + img_h + 30.0);
        self.section_title(w.signature);
        let base = self.y - img_h;
        self.ops.push(Op::UseXobject {
            id: sig,
            transform: XObjectTransform {
                translate_x: Some(Pt(MARGIN)),
                translate_y: Some(Pt(base)),
                dpi: Some(dpi),
                ..XObjectTransform::default()
            },
        });
        self.hline(MARGIN, MARGIN + img_w.max(120.0), base, 0.8, BLACK);
        let tx = MARGIN + img_w.max(120.0) + 16.0;
        let signer = format!("{}: {}", w.signed_by, v.signature.signer);
        let at = format!("{}: {}", w.signed_at, v.signature.signed_at);
        self.text(tx, base + 20.0, &signer, 9.0, false, BLACK);
        self.text(tx, base + 6.0, &at, 9.0, false, BLACK);
        self.y = base - 14.0;
    }

    /// Verification details: the record hash and the verification URL.
    fn verification(&mut self, v: &RecordView) {
        let w = v.words;
        let url_lines = self.wrap(
            &format!("{}: {}", w.verify_at, v.verify_url),
            BODY,
            false,
            CONTENT_W,
        );
        self.ensure(20.0 + (2 + url_lines.len()) as f32 * LEADING);
        self.section_title(w.verification);
        let hash_line = format!("{}: {}", w.record_hash, v.hash);
        for l in self.wrap(&hash_line, BODY, false, CONTENT_W) {
            self.text(MARGIN, self.y - 9.0, &l, BODY, false, BLACK);
            self.y -= LEADING;
        }
        for l in url_lines {
            self.text(MARGIN, self.y - 9.0, &l, BODY, false, BLACK);
            self.y -= LEADING;
        }
    }

    fn section_title(&mut self, title: &str) {
        self.y -= 6.0;
        self.rect(MARGIN, self.y - 13.0, 3.0, 12.0, BLACK);
        self.text(MARGIN + 7.0, self.y - 10.5, title, 11.0, true, BLACK);
        self.y -= 18.0;
    }

    fn table(&mut self, t: &Table) {
        let total: f32 = t.columns.iter().map(|c| c.weight).sum();
        let widths: Vec<f32> = t
            .columns
            .iter()
            .map(|c| c.weight / total * CONTENT_W)
            .collect();
        let header: Vec<Vec<String>> = t
            .columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| self.wrap(&c.header, BODY, true, w - 2.0 * PAD))
            .collect();
        let header_h = header.iter().map(Vec::len).max().unwrap_or(1) as f32 * LEADING + 2.0 * PAD;
        let first_row_h = t
            .rows
            .first()
            .map(|r| self.row_lines(r, &widths).0)
            .unwrap_or(0.0);
        // Keep the title with the header and the first row.
        self.ensure(24.0 + header_h + first_row_h);
        self.section_title(&t.title);
        if t.show_header {
            self.header_row(t, &header, &widths, header_h);
        }
        for r in &t.rows {
            let (h, cells) = self.row_lines(r, &widths);
            if self.y - h < BOTTOM {
                self.new_page();
                if t.show_header {
                    self.header_row(t, &header, &widths, header_h);
                }
            }
            let bg = match r.style {
                RowStyle::Normal => None,
                RowStyle::Group => Some(GROUP_BG),
                RowStyle::Warn => Some(WARN_BG),
                RowStyle::Total => None,
            };
            if let Some(bg) = bg {
                self.rect(MARGIN, self.y - h, CONTENT_W, h, bg);
            }
            if r.style == RowStyle::Total {
                self.hline(MARGIN, MARGIN + CONTENT_W, self.y, 1.2, BLACK);
            }
            let bold = matches!(r.style, RowStyle::Group | RowStyle::Total);
            let mut x = MARGIN;
            for (i, lines) in cells.iter().enumerate() {
                let cw = if r.style == RowStyle::Group {
                    CONTENT_W
                } else {
                    widths[i]
                };
                let right = t.columns.get(i).is_some_and(|c| c.align == Align::Right)
                    && r.style != RowStyle::Group;
                for (j, l) in lines.iter().enumerate() {
                    let lx = if right {
                        x + cw - PAD - self.width(l, BODY, bold)
                    } else {
                        x + PAD
                    };
                    let ly = self.y - PAD - 9.0 - j as f32 * LEADING;
                    self.text(lx, ly, l, BODY, bold, BLACK);
                }
                x += cw;
            }
            self.y -= h;
            self.hline(MARGIN, MARGIN + CONTENT_W, self.y, 0.4, RULE);
        }
        self.y -= 4.0;
    }

    fn header_row(&mut self, t: &Table, header: &[Vec<String>], widths: &[f32], h: f32) {
        self.rect(MARGIN, self.y - h, CONTENT_W, h, HEAD_BG);
        let mut x = MARGIN;
        for (i, lines) in header.iter().enumerate() {
            let right = t.columns[i].align == Align::Right;
            for (j, l) in lines.iter().enumerate() {
                let lx = if right {
                    x + widths[i] - PAD - self.width(l, BODY, true)
                } else {
                    x + PAD
                };
                self.text(
                    lx,
                    self.y - PAD - 9.0 - j as f32 * LEADING,
                    l,
                    BODY,
                    true,
                    BLACK,
                );
            }
            x += widths[i];
        }
        self.y -= h;
    }

    /// Row height and the wrapped lines of each cell.
    fn row_lines(&self, r: &view::Row, widths: &[f32]) -> (f32, Vec<Vec<String>>) {
        let bold = matches!(r.style, RowStyle::Group | RowStyle::Total);
        let cells: Vec<Vec<String>> = if r.style == RowStyle::Group {
            vec![self.wrap(
                r.cells.first().map(String::as_str).unwrap_or(""),
                BODY,
                true,
                CONTENT_W - 2.0 * PAD,
            )]
        } else {
            r.cells
                .iter()
                .zip(widths)
                .map(|(c, w)| self.wrap(c, BODY, bold, w - 2.0 * PAD))
                .collect()
        };
        let n = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        (n as f32 * LEADING + 2.0 * PAD, cells)
    }

    /// Close the last page and put the footer on every page.
    fn finish(mut self, v: &RecordView) -> (Vec<Vec<Op>>, [BTreeSet<char>; 2]) {
        self.new_page();
        let n = self.pages.len();
        let mut pages = std::mem::take(&mut self.pages);
        for (i, page) in pages.iter_mut().enumerate() {
            let label = match v.lang {
                Lang::ZhCn => format!("第 {} / {n} {}", i + 1, v.words.page),
                Lang::En => format!("{} {} / {n}", v.words.page, i + 1),
            };
            let footer = format!(
                "{} · {} · {}",
                v.order_no,
                label,
                &v.hash[..16.min(v.hash.len())]
            );
            self.ops.clear();
            self.hline(MARGIN, MARGIN + CONTENT_W, MARGIN + 10.0, 0.4, RULE);
            self.text(MARGIN, MARGIN, &footer, 7.0, false, GREY);
            page.append(&mut self.ops);
        }
        (pages, self.used)
    }
}
