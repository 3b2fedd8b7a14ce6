//! The record as one standalone HTML page: inline CSS, the signature as a `data:` URI, the QR code
//! as inline SVG. Nothing is fetched, so it displays and prints offline.

use base64::Engine;

use crate::error::RecordError;
use crate::view::{self, Align, Qr, RecordInput, RecordView, RowStyle};

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The QR code as an SVG element with a 4-module quiet zone, one path of horizontal runs.
pub(crate) fn qr_svg(qr: &Qr, size_css: &str, title: &str) -> String {
    let side = qr.width + 8;
    let mut d = String::new();
    for (x, y, len) in qr.runs() {
        d.push_str(&format!("M{} {}h{len}v1h-{len}z", x + 4, y + 4));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"{size_css}\" \
         height=\"{size_css}\" shape-rendering=\"crispEdges\" role=\"img\"><title>{}</title>\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{d}\" fill=\"#000\"/></svg>",
        escape(title)
    )
}

const CSS: &str = "\
@page{size:A4;margin:14mm}\
*{box-sizing:border-box}\
body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;\
color:#111;margin:0 auto;max-width:190mm;padding:12px;font-size:13px;line-height:1.45}\
header{display:flex;justify-content:space-between;align-items:flex-start;gap:16px;border-bottom:2px solid #111;padding-bottom:8px}\
header h1{font-size:22px;margin:2px 0}\
.company{font-size:16px;font-weight:700}\
.qr{text-align:center;font-size:11px;color:#444}\
.status{margin:10px 0;padding:8px 10px;border-radius:4px;font-weight:700}\
.status.ok{background:#e8f5e9;border:1px solid #2e7d32;color:#1b5e20}\
.status.bad{background:#ffebee;border:2px solid #c62828;color:#b71c1c}\
.status small{display:block;font-weight:400}\
dl.facts{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:4px 10px;margin:10px 0}\
dl.facts dt{color:#555}dl.facts dd{margin:0}\
h2{font-size:15px;margin:16px 0 4px;border-left:4px solid #111;padding-left:6px}\
table{width:100%;border-collapse:collapse;page-break-inside:auto}\
tr{page-break-inside:avoid}\
th,td{border-bottom:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}\
th{background:#f2f2f2;font-weight:600}\
td.r,th.r{text-align:right;white-space:nowrap}\
tr.group td{background:#fafafa;font-weight:700}\
tr.warn td{background:#fff4e5}\
tr.total td{font-weight:700;border-top:2px solid #111}\
.sig{display:flex;gap:24px;align-items:flex-end;margin-top:8px;page-break-inside:avoid}\
.sig img{height:64px;border-bottom:1px solid #111}\
.hash{font-family:ui-monospace,monospace;word-break:break-all;font-size:12px}\
footer{margin-top:16px;border-top:1px solid #ccc;padding-top:6px;font-size:11px;color:#444}\
@media print{body{padding:0;max-width:none}.status.ok{background:none}}";

/// Render the record as a standalone HTML page.
pub fn render_html(input: &RecordInput<'_>) -> Result<String, RecordError> {
    let v = view::build(input)?;
    Ok(html_of(&v))
}

fn html_of(v: &RecordView) -> String {
    let w = v.words;
    let e = escape;
    let mut h = String::new();
    h.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} {}</title><style>{CSS}</style></head><body>",
        v.lang.tag(),
        e(w.title),
        e(&v.order_no)
    ));
    h.push_str(&format!(
        "<header><div><div class=\"company\">{}</div><h1>{}</h1><div>{}: <b>{}</b></div></div>\
         <div class=\"qr\">{}<div>{}</div></div></header>",
        e(&v.company),
        e(w.title),
        e(w.order_no),
        e(&v.order_no),
        qr_svg(&v.qr, "34mm", &v.verify_url),
        e(w.scan_to_verify)
    ));
    h.push_str(&format!(
        "<div class=\"status {}\" role=\"status\">{}{}</div>",
        if v.status.valid { "ok" } else { "bad" },
        e(&v.status.text),
        v.status
            .detail
            .as_deref()
            .map(|d| format!("<small>{}</small>", e(d)))
            .unwrap_or_default()
    ));
    h.push_str("<dl class=\"facts\">");
    for (k, val) in &v.facts {
        h.push_str(&format!("<dt>{}</dt><dd>{}</dd>", e(k), e(val)));
    }
    h.push_str("</dl>");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&v.signature.png);
    h.push_str(&format!(
        "<section><h2>{}</h2><div class=\"sig\"><img alt=\"{}\" src=\"data:image/png;base64,{b64}\">\
         <div>{}: <b>{}</b><br>{}: {}</div></div></section>",
        e(w.signature),
        e(w.signature),
        e(w.signed_by),
        e(&v.signature.signer),
        e(w.signed_at),
        e(&v.signature.signed_at)
    ));
    for t in &v.tables {
        h.push_str(&format!("<section><h2>{}</h2><table>", e(&t.title)));
        if t.show_header {
            h.push_str("<thead><tr>");
            for c in &t.columns {
                let class = if c.align == Align::Right {
                    " class=\"r\""
                } else {
                    ""
                };
                h.push_str(&format!("<th{class}>{}</th>", e(&c.header)));
            }
            h.push_str("</tr></thead>");
        }
        h.push_str("<tbody>");
        for r in &t.rows {
            let class = match r.style {
                RowStyle::Normal => "",
                RowStyle::Group => " class=\"group\"",
                RowStyle::Warn => " class=\"warn\"",
                RowStyle::Total => " class=\"total\"",
            };
            h.push_str(&format!("<tr{class}>"));
            if r.style == RowStyle::Group {
                h.push_str(&format!(
                    "<td colspan=\"{}\">{}</td>",
                    t.columns.len(),
                    e(r.cells.first().map(String::as_str).unwrap_or(""))
                ));
            } else {
                for (i, cell) in r.cells.iter().enumerate() {
                    let right = t.columns.get(i).is_some_and(|c| c.align == Align::Right);
                    let class = if right { " class=\"r\"" } else { "" };
                    h.push_str(&format!("<td{class}>{}</td>", e(cell)));
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></section>");
    }
    h.push_str(&format!(
        "<footer><div>{}</div><div>{}: <span class=\"hash\">{}</span></div><div>{}: {}</div></footer>",
        e(w.verification),
        e(w.record_hash),
        e(&v.hash),
        e(w.verify_at),
        e(&v.verify_url)
    ));
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
