//! The public certificate page `GET /verify/cert/<certificate-no>/<signature>` (一证件): what a
//! customer at the door sees after scanning the technician's certificate QR code. No sign-in. It
//! shows the technician's name, the certificate's star level and its state now (valid, expired,
//! withdrawn — [`TechnicianProfile::certificate_state`] at relay time) and nothing else: no phone,
//! no id, no expiry date. A link whose signature is not this relay's answers exactly like an
//! unknown certificate (404), so the page tells a prober nothing.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use onsite_domain::reference::{CertificateState, TechnicianProfile};
use onsite_record::{Lang, escape_html};

use crate::api::{AppState, now_ms};
use crate::certificate;
use crate::storage::StorageError;

/// The route, to merge into the relay's router.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/verify/cert/{certificate_no}/{signature}", get(page))
        .with_state(state)
}

/// What the page says: a known certificate's public facts, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateCheck {
    Known {
        name: String,
        stars: u32,
        state: CertificateState,
    },
    Unknown,
}

/// Check a certificate link at `now_ms`: unknown unless the signature is this relay's and a
/// stored profile holds the number.
pub fn check(
    storage: &dyn crate::RelayStorage,
    certificate_no: &str,
    signature: &str,
    now_ms: i64,
) -> Result<CertificateCheck, StorageError> {
    let key = certificate::signing_key(storage, now_ms)?;
    if !certificate::signature_ok(&key, certificate_no, signature) {
        return Ok(CertificateCheck::Unknown);
    }
    Ok(
        match certificate::by_certificate(storage, certificate_no)? {
            Some(p) => known(&p, now_ms),
            None => CertificateCheck::Unknown,
        },
    )
}

fn known(p: &TechnicianProfile, now_ms: i64) -> CertificateCheck {
    CertificateCheck::Known {
        name: p.name.clone(),
        stars: p.certificate_stars.min(5),
        state: p.certificate_state(now_ms),
    }
}

async fn page(
    State(state): State<AppState>,
    Path((certificate_no, signature)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let lang = crate::verify::lang_of(&headers);
    let s = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        check(s.storage().as_ref(), &certificate_no, &signature, now_ms())
    })
    .await;
    match result {
        Ok(Ok(c)) => {
            let status = match c {
                CertificateCheck::Unknown => StatusCode::NOT_FOUND,
                CertificateCheck::Known { .. } => StatusCode::OK,
            };
            (status, Html(render(&c, lang))).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "certificate page: storage failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay cannot check certificates right now; try again later",
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the relay failed; try again later",
        )
            .into_response(),
    }
}

struct Words {
    title: &'static str,
    name: &'static str,
    stars: &'static str,
    valid: &'static str,
    valid_detail: &'static str,
    expired: &'static str,
    expired_detail: &'static str,
    withdrawn: &'static str,
    withdrawn_detail: &'static str,
    unknown: &'static str,
    unknown_detail: &'static str,
    privacy: &'static str,
}

const ZH_CN: Words = Words {
    title: "技师证件查验",
    name: "姓名",
    stars: "星级",
    valid: "证件有效",
    valid_detail: "此技师持有本服务中心签发的有效上门服务证件。",
    expired: "证件已过期",
    expired_detail: "此证件已过有效期，请联系服务中心核实后再让其上门服务。",
    withdrawn: "证件已吊销",
    withdrawn_detail: "服务中心已吊销此证件，请勿让其上门服务，并联系服务中心。",
    unknown: "无法查验此证件",
    unknown_detail: "此链接不属于本服务中心的任何证件。请勿开门，并拨打服务热线核实。",
    privacy: "本页只显示技师姓名、证件星级和证件状态。",
};

const EN: Words = Words {
    title: "Technician certificate check",
    name: "Name",
    stars: "Star level",
    valid: "Certificate valid",
    valid_detail: "This technician holds a valid home-service certificate issued by this service centre.",
    expired: "Certificate expired",
    expired_detail: "This certificate has expired; call the service centre before letting the technician in.",
    withdrawn: "Certificate withdrawn",
    withdrawn_detail: "The service centre withdrew this certificate; do not let the technician in, and call the service centre.",
    unknown: "Certificate cannot be checked",
    unknown_detail: "This link belongs to no certificate of this service centre. Do not open the door; call the service hotline.",
    privacy: "This page shows only the technician's name, the certificate's star level and its state.",
};

/// The page's HTML.
pub fn render(check: &CertificateCheck, lang: Lang) -> String {
    let w = match lang {
        Lang::ZhCn => &ZH_CN,
        Lang::En => &EN,
    };
    let e = escape_html;
    let (class, headline, detail, facts) = match check {
        CertificateCheck::Unknown => ("unknown", w.unknown, w.unknown_detail, String::new()),
        CertificateCheck::Known { name, stars, state } => {
            let (class, headline, detail) = match state {
                CertificateState::Valid => ("ok", w.valid, w.valid_detail),
                CertificateState::Expired => ("bad", w.expired, w.expired_detail),
                CertificateState::Withdrawn => ("bad", w.withdrawn, w.withdrawn_detail),
            };
            let star_text = "★".repeat(*stars as usize);
            let facts = format!(
                "<dl><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd aria-label=\"{stars}\">{star_text}</dd></dl>",
                e(w.name),
                e(name),
                e(w.stars),
            );
            (class, headline, detail, facts)
        }
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
         <div class=\"state {class}\" data-state=\"{state}\">{headline}</div><p>{detail}</p>{facts}\
         <p><small>{privacy}</small></p></body></html>\n",
        lang = lang.tag(),
        title = e(w.title),
        state = match check {
            CertificateCheck::Unknown => "unknown",
            CertificateCheck::Known { state, .. } => match state {
                CertificateState::Valid => "valid",
                CertificateState::Expired => "expired",
                CertificateState::Withdrawn => "withdrawn",
            },
        },
        headline = e(headline),
        detail = e(detail),
        privacy = e(w.privacy),
    )
}
