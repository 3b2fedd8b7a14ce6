//! Conversions between the domain's types and the UI's views and requests.

use std::collections::BTreeMap;

use onsite_domain::Millis;
use onsite_domain::completion::{AnsweredBy, ItemState};
use onsite_domain::edit::VisitEdit;
use onsite_domain::order::Order;
use onsite_domain::progress::ProgressKind;
use onsite_domain::reference::{
    Confirmation, FeeSchedule, ItemKind, PartsCatalogue, PhotoPolicy, TechnicianProfile,
};
use onsite_domain::sla::SlaBadge;
use onsite_domain::status::EffectiveStatus;
use onsite_domain::visit::{FeeLine, HomeCheck, Outcome, PartUse, StockSource};
use onsite_store::OrderRow;

use crate::error::AppError;
use crate::view::*;

pub(crate) fn badge_view(b: SlaBadge) -> SlaBadgeView {
    match b {
        SlaBadge::Met => SlaBadgeView::Met,
        SlaBadge::OnTrack => SlaBadgeView::OnTrack,
        SlaBadge::AtRisk => SlaBadgeView::AtRisk,
        SlaBadge::Breached => SlaBadgeView::Breached,
    }
}

pub(crate) fn order_card_from_row(o: &OrderRow, badge: SlaBadge) -> OrderCard {
    OrderCard {
        order_id: o.order_id.clone(),
        order_no: o.order_no.clone(),
        customer_name: o.customer_name.clone(),
        address: o.customer_address.clone(),
        tier: o.tier,
        service_type: o.service_type,
        window_start_ms: o.schedule.map(|w| w.start_ms),
        window_end_ms: o.schedule.map(|w| w.end_ms),
        status: o.effective_status,
        sla: badge_view(badge),
        problem: o.problem.clone(),
    }
}

/// A card from the order document; `status` is refined from the index by the caller.
pub(crate) fn order_card(o: &Order, badge: SlaBadge) -> OrderCard {
    OrderCard {
        order_id: o.order_id.clone(),
        order_no: o.order_no.clone(),
        customer_name: o.customer.name.clone(),
        address: o.customer.address.clone(),
        tier: o.customer.tier,
        service_type: o.service_type,
        window_start_ms: o.schedule.map(|w| w.start_ms),
        window_end_ms: o.schedule.map(|w| w.end_ms),
        status: EffectiveStatus::Assigned,
        sla: badge_view(badge),
        problem: o.problem.clone(),
    }
}

pub(crate) fn step_view(k: ProgressKind) -> Step {
    match k {
        ProgressKind::Accepted => Step::Accepted,
        ProgressKind::EnRoute => Step::EnRoute,
        ProgressKind::Arrived => Step::Arrived,
        ProgressKind::WorkStarted => Step::WorkStarted,
        ProgressKind::WorkDone => Step::WorkDone,
        ProgressKind::Signed => Step::Signed,
        ProgressKind::Reopened => Step::Reopened,
    }
}

fn step_kind(s: Step) -> ProgressKind {
    match s {
        Step::Accepted => ProgressKind::Accepted,
        Step::EnRoute => ProgressKind::EnRoute,
        Step::Arrived => ProgressKind::Arrived,
        Step::WorkStarted => ProgressKind::WorkStarted,
        Step::WorkDone => ProgressKind::WorkDone,
        Step::Signed => ProgressKind::Signed,
        Step::Reopened => ProgressKind::Reopened,
    }
}

pub(crate) fn confirmation_view(c: Confirmation) -> ConfirmationView {
    match c {
        Confirmation::UsageExplained => ConfirmationView::UsageExplained,
        Confirmation::NoWater => ConfirmationView::NoWater,
        Confirmation::NoSmoke => ConfirmationView::NoSmoke,
        Confirmation::NoMeal => ConfirmationView::NoMeal,
        Confirmation::NoGift => ConfirmationView::NoGift,
    }
}

fn confirmation(c: ConfirmationView) -> Confirmation {
    match c {
        ConfirmationView::UsageExplained => Confirmation::UsageExplained,
        ConfirmationView::NoWater => Confirmation::NoWater,
        ConfirmationView::NoSmoke => Confirmation::NoSmoke,
        ConfirmationView::NoMeal => Confirmation::NoMeal,
        ConfirmationView::NoGift => Confirmation::NoGift,
    }
}

pub(crate) fn item_kind_view(k: &ItemKind) -> ItemKindView {
    match k {
        ItemKind::Tick => ItemKindView::Tick,
        ItemKind::Evidence => ItemKindView::Evidence,
        ItemKind::PassFail => ItemKindView::PassFail,
        ItemKind::Reading { unit, min, max } => ItemKindView::Reading {
            unit: unit.clone(),
            min: *min,
            max: *max,
        },
        ItemKind::CustomerConfirm { confirmation } => ItemKindView::CustomerConfirm {
            confirmation: confirmation_view(*confirmation),
        },
        ItemKind::SignedRecord => ItemKindView::SignedRecord,
        ItemKind::HomeCheck => ItemKindView::HomeCheck,
    }
}

pub(crate) fn photo_rule(p: PhotoPolicy) -> PhotoRule {
    match p {
        PhotoPolicy::None => PhotoRule::None,
        PhotoPolicy::Optional => PhotoRule::Optional,
        PhotoPolicy::Required => PhotoRule::Required,
    }
}

pub(crate) fn outcome_view(o: &Outcome) -> OutcomeView {
    match o {
        Outcome::Done => OutcomeView::Done,
        Outcome::NotApplicable { reason } => OutcomeView::NotApplicable {
            reason: reason.clone(),
        },
        Outcome::Pass => OutcomeView::Pass,
        Outcome::Fail => OutcomeView::Fail,
        Outcome::Reading { value, unit } => OutcomeView::Reading {
            value: *value,
            unit: unit.clone(),
        },
    }
}

fn outcome(o: OutcomeView) -> Outcome {
    match o {
        OutcomeView::Done => Outcome::Done,
        OutcomeView::NotApplicable { reason } => Outcome::NotApplicable { reason },
        OutcomeView::Pass => Outcome::Pass,
        OutcomeView::Fail => Outcome::Fail,
        OutcomeView::Reading { value, unit } => Outcome::Reading { value, unit },
    }
}

fn source_view(s: StockSource) -> StockSourceView {
    match s {
        StockSource::Personal => StockSourceView::Personal,
        StockSource::Warehouse => StockSourceView::Warehouse,
    }
}

pub(crate) fn stock_source(s: StockSourceView) -> StockSource {
    match s {
        StockSourceView::Personal => StockSource::Personal,
        StockSourceView::Warehouse => StockSource::Warehouse,
    }
}

pub(crate) fn answered_by_view(b: AnsweredBy) -> AnsweredByView {
    match b {
        AnsweredBy::Technician => AnsweredByView::Technician,
        AnsweredBy::Customer => AnsweredByView::Customer,
        AnsweredBy::Signature => AnsweredByView::Signature,
    }
}

pub(crate) fn item_state_view(s: ItemState) -> ItemStateView {
    match s {
        ItemState::Done => ItemStateView::Done,
        ItemState::Open => ItemStateView::Open,
        ItemState::Missing => ItemStateView::Missing,
    }
}

pub(crate) fn part_line_view(p: &PartUse) -> PartLineView {
    PartLineView {
        id: p.id.clone(),
        part_no: p.part_no.clone(),
        name_zh_cn: p.name_zh_cn.clone(),
        name_en: p.name_en.clone(),
        qty: p.qty,
        unit_price_cents: p.unit_price_cents,
        faulty_serial: p.faulty_serial.clone(),
        replacement_serial: p.replacement_serial.clone(),
        source: source_view(p.source),
    }
}

pub(crate) fn fee_line_view(f: &FeeLine) -> FeeLineView {
    FeeLineView {
        id: f.id.clone(),
        code: f.code.clone(),
        label_zh_cn: f.label_zh_cn.clone(),
        label_en: f.label_en.clone(),
        qty: f.qty,
        unit_price_cents: f.unit_price_cents,
    }
}

pub(crate) fn home_check_view(h: &HomeCheck) -> HomeCheckView {
    HomeCheckView {
        id: h.id.clone(),
        appliance: h.appliance.clone(),
        result: h.result,
        note: h.note.clone(),
    }
}

/// The domain edit for a UI request; `new_id` names new list entries and events.
pub(crate) fn visit_edit(
    req: EditRequest,
    new_id: impl Fn() -> String,
) -> Result<VisitEdit, AppError> {
    Ok(match req {
        EditRequest::Progress { step } => VisitEdit::Progress {
            id: new_id(),
            kind: step_kind(step),
        },
        EditRequest::Answer {
            template_id,
            item_id,
            outcome: o,
            note,
        } => VisitEdit::Answer {
            template_id,
            item_id,
            outcome: outcome(o),
            note,
        },
        EditRequest::DetachPhoto {
            template_id,
            item_id,
            sha256,
        } => VisitEdit::DetachPhoto {
            template_id,
            item_id,
            sha256,
        },
        EditRequest::ClearAnswer {
            template_id,
            item_id,
        } => VisitEdit::ClearAnswer {
            template_id,
            item_id,
        },
        EditRequest::AddPart {
            part_no,
            qty,
            faulty_serial,
            replacement_serial,
            source,
        } => VisitEdit::AddPart {
            id: new_id(),
            part_no,
            qty,
            faulty_serial,
            replacement_serial,
            source: stock_source(source),
        },
        EditRequest::RemovePart { id } => VisitEdit::RemovePart { id },
        EditRequest::AddFee { code, qty } => VisitEdit::AddFee {
            id: new_id(),
            code,
            qty,
        },
        EditRequest::RemoveFee { id } => VisitEdit::RemoveFee { id },
        EditRequest::SetNotes {
            diagnosis,
            work_performed,
        } => VisitEdit::SetNotes {
            diagnosis,
            work_performed,
        },
        EditRequest::AddHomeCheck {
            appliance,
            result,
            note,
        } => VisitEdit::AddHomeCheck {
            id: new_id(),
            appliance,
            result,
            note,
        },
        EditRequest::RemoveHomeCheck { id } => VisitEdit::RemoveHomeCheck { id },
        EditRequest::Confirm {
            confirmation: c,
            value,
        } => VisitEdit::Confirm {
            confirmation: confirmation(c),
            value,
        },
        EditRequest::Rate { stars, comment } => VisitEdit::Rate { stars, comment },
        EditRequest::Reopen { reason } => VisitEdit::Reopen {
            event_id: new_id(),
            reason,
        },
    })
}

/// The text in the certificate's QR code when the relay has not (yet) given the signed link:
/// what a customer's phone shows when scanning it offline before the first sign-in.
pub(crate) fn certificate_qr_text(p: &TechnicianProfile) -> String {
    format!(
        "ONSITE-CERT:{}|{}|{}|{}",
        p.certificate_id, p.technician_id, p.name, p.certificate_stars
    )
}

/// The certificate view; its QR code encodes `signed_url` (the relay's public certificate page,
/// `<relay>/verify/cert/<certificate-no>/<signature>`) when known, else the plain text.
pub(crate) fn certificate_view(
    p: &TechnicianProfile,
    now: Millis,
    signed_url: Option<String>,
) -> Result<CertificateView, AppError> {
    let text = signed_url.unwrap_or_else(|| certificate_qr_text(p));
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::Qr(e.to_string()))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(CertificateView {
        technician_id: p.technician_id.clone(),
        name: p.name.clone(),
        phone: p.phone.clone(),
        certificate_id: p.certificate_id.clone(),
        stars: p.certificate_stars,
        expires_ms: p.certificate_expiry_ms,
        valid: p.certificate_valid_at(now),
        qr_text: text,
        qr_svg: svg,
    })
}

pub(crate) fn fee_schedule_view(f: &FeeSchedule) -> FeeScheduleView {
    FeeScheduleView {
        version: f.version,
        currency: f.currency.clone(),
        effective_from_ms: f.effective_from_ms,
        items: f
            .items
            .iter()
            .map(|i| FeeItemView {
                code: i.code.clone(),
                label_zh_cn: i.label.zh_cn.clone(),
                label_en: i.label.en.clone(),
                category_zh_cn: i.category.zh_cn.clone(),
                category_en: i.category.en.clone(),
                unit_zh_cn: i.unit.zh_cn.clone(),
                unit_en: i.unit.en.clone(),
                unit_price_cents: i.unit_price_cents,
            })
            .collect(),
    }
}

pub(crate) fn parts_view(c: &PartsCatalogue, levels: &BTreeMap<String, i64>) -> PartsView {
    let mut parts: Vec<StockPart> = c
        .parts
        .iter()
        .map(|p| StockPart {
            part_no: p.part_no.clone(),
            name_zh_cn: p.name.zh_cn.clone(),
            name_en: p.name.en.clone(),
            unit_price_cents: p.unit_price_cents,
            serialised: p.serialised,
            on_hand: levels.get(&p.part_no).copied().unwrap_or(0),
        })
        .collect();
    // Parts the technician carries first, then the rest of the catalogue.
    parts.sort_by_key(|p| std::cmp::Reverse(p.on_hand > 0));
    PartsView { parts }
}
