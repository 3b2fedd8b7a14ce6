//! The public verification page the relay serves at `/verify/<order-number>/<hash>`: valid, not
//! valid or unknown, with the date, the service type and the technician's name — and nothing about
//! the customer. [`VerifySummary`] is built from the documents so the page cannot leak more than it
//! carries.

use onsite_domain::order::Order;
use onsite_domain::record::{self, Verification};
use onsite_domain::reference::ServiceType;
use onsite_domain::visit::{Signature, Visit};
use serde::{Deserialize, Serialize};

use crate::html::escape;
use crate::i18n::Lang;
use crate::view::format_date;

/// Why a known record is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotValidReason {
    /// Something signed changed after signing.
    ModifiedAfterSigning,
    /// The record was reopened for correction; this hash is a withdrawn earlier signature's.
    Superseded,
}

/// What the verification page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VerifyState {
    Valid,
    NotValid {
        reason: NotValidReason,
    },
    /// No signed record of this order has this hash (or the order is not known).
    Unknown,
}

/// Everything the public page shows. Holds no customer data by construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifySummary {
    pub state: VerifyState,
    pub signed_at_ms: Option<i64>,
    pub service_type: Option<ServiceType>,
    pub technician_name: Option<String>,
    /// Offset of the company's local time from UTC, in minutes, for the date shown (China: 480).
    pub utc_offset_minutes: i32,
}

impl VerifySummary {
    /// Nothing known about this link.
    pub fn unknown(utc_offset_minutes: i32) -> VerifySummary {
        VerifySummary {
            state: VerifyState::Unknown,
            signed_at_ms: None,
            service_type: None,
            technician_name: None,
            utc_offset_minutes,
        }
    }

    fn from_signature(
        state: VerifyState,
        order: &Order,
        sig: &Signature,
        utc_offset_minutes: i32,
    ) -> VerifySummary {
        VerifySummary {
            state,
            signed_at_ms: Some(sig.signed_at_ms),
            service_type: Some(order.service_type),
            technician_name: Some(sig.technician_name.clone()),
            utc_offset_minutes,
        }
    }

    /// Check `claimed_hash` (from the URL) against the visits of `order`, recomputing the record
    /// hash from the documents. A visit whose current signature has the hash decides; failing
    /// that, an earlier (reopened) signature with the hash makes it superseded.
    pub fn check(
        order: &Order,
        visits: &[Visit],
        claimed_hash: &str,
        utc_offset_minutes: i32,
    ) -> VerifySummary {
        let claimed = claimed_hash.trim().to_ascii_lowercase();
        if claimed.len() != 64 || !claimed.bytes().all(|b| b.is_ascii_hexdigit()) {
            return VerifySummary::unknown(utc_offset_minutes);
        }
        for visit in visits.iter().filter(|v| v.order_id == order.order_id) {
            if let Some(sig) = visit
                .signature
                .as_ref()
                .filter(|s| s.record_hash == claimed)
            {
                let state = match record::verify(order, visit) {
                    Verification::Valid { .. } => VerifyState::Valid,
                    _ => VerifyState::NotValid {
                        reason: NotValidReason::ModifiedAfterSigning,
                    },
                };
                return VerifySummary::from_signature(state, order, sig, utc_offset_minutes);
            }
        }
        for visit in visits.iter().filter(|v| v.order_id == order.order_id) {
            if let Some(old) = visit
                .signature_history
                .iter()
                .find(|s| s.record_hash == claimed)
            {
                let state = VerifyState::NotValid {
                    reason: NotValidReason::Superseded,
                };
                return VerifySummary::from_signature(state, order, old, utc_offset_minutes);
            }
        }
        VerifySummary::unknown(utc_offset_minutes)
    }
}

/// The public verification page (standalone HTML, no external resources).
pub fn verify_page(summary: &VerifySummary, lang: Lang) -> String {
    let w = lang.words();
    let e = escape;
    let (class, headline, reason) = match summary.state {
        VerifyState::Valid => ("ok", w.verify_valid, w.valid),
        VerifyState::NotValid { reason } => (
            "bad",
            w.verify_not_valid,
            match reason {
                NotValidReason::ModifiedAfterSigning => w.reason_modified,
                NotValidReason::Superseded => w.reason_superseded,
            },
        ),
        VerifyState::Unknown => ("unknown", w.verify_unknown, w.verify_unknown_detail),
    };
    let mut facts = String::new();
    if let Some(ms) = summary.signed_at_ms {
        facts.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            e(w.signed_at),
            e(&format_date(ms, summary.utc_offset_minutes))
        ));
    }
    if let Some(st) = summary.service_type {
        facts.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>",
            e(w.service_type),
            e(st.label().get(lang.tag()))
        ));
    }
    if let Some(name) = &summary.technician_name {
        facts.push_str(&format!("<dt>{}</dt><dd>{}</dd>", e(w.technician), e(name)));
    }
    let facts = if facts.is_empty() {
        String::new()
    } else {
        format!("<dl>{facts}</dl>")
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>\
         body{{font-family:\"Noto Sans CJK SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;\
         max-width:32rem;margin:2rem auto;padding:0 1rem;color:#111}}\
         .state{{font-size:2rem;font-weight:700;padding:.6rem 1rem;border-radius:6px}}\
         .ok{{background:#e8f5e9;color:#1b5e20}}.bad{{background:#ffebee;color:#b71c1c}}\
         .unknown{{background:#eceff1;color:#37474f}}\
         dl{{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem}}dt{{color:#555}}dd{{margin:0}}\
         small{{color:#666}}</style></head><body><h1>{title}</h1>\
         <div class=\"state {class}\" data-state=\"{class}\">{headline}</div><p>{reason}</p>{facts}\
         <p><small>{privacy}</small></p></body></html>\n",
        lang = lang.tag(),
        title = e(w.verify_title),
        headline = e(headline),
        reason = e(reason),
        privacy = e(w.verify_privacy),
    )
}
