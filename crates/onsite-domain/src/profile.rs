//! Technician profiles edited from the console (一证件, ISO 9001 §7.5.2 b): qualifications,
//! certificate number, star level and validity, withdrawal and reinstatement — each a validated
//! operation on [`TechnicianProfile`] that changes nothing when refused.
//!
//! Who may do what ([`may`]): an admin manages profiles (edits and reinstates); a dispatcher — or
//! an admin — withdraws a certificate at once when something is wrong; a technician changes
//! nothing. Reinstating exists because a withdrawal made in error, or a suspension that ended
//! after retraining, would otherwise need a new certificate number and a reprinted card, and the
//! old QR code would then read "unknown" instead of "valid"; both actions stay on the profile.

use std::ops::RangeInclusive;

use crate::reference::{CertificateAction, CertificateActionKind, ServiceType, TechnicianProfile};
use crate::{DomainError, HOUR, Millis};

/// The star levels a service qualification certificate has.
pub const STARS: RangeInclusive<u32> = 1..=5;
/// Longest validity of one certificate.
pub const MAX_VALIDITY_YEARS: i64 = 10;
/// Longest certificate number (it is printed on the card and travels in the QR code's URL).
pub const MAX_CERTIFICATE_NO_CHARS: usize = 40;

const DAY: Millis = 24 * HOUR;

/// Who acts on a profile (the signed-in user's role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Technician,
    Dispatcher,
    Admin,
}

/// What is done to a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileAction {
    /// Qualifications, certificate number, stars, validity.
    Edit,
    Withdraw,
    Reinstate,
}

/// Whether `actor` may do `action`: admins everything, dispatchers withdraw, technicians nothing.
pub fn may(actor: Actor, action: ProfileAction) -> bool {
    match actor {
        Actor::Admin => true,
        Actor::Dispatcher => action == ProfileAction::Withdraw,
        Actor::Technician => false,
    }
}

fn check_may(actor: Actor, action: ProfileAction) -> Result<(), DomainError> {
    if may(actor, action) {
        Ok(())
    } else {
        Err(DomainError::ProfileNotAllowed { action })
    }
}

/// An admin's edit of a profile. Dates are the service centre's local dates, `YYYY-MM-DD`; the
/// certificate is valid from the start of `valid_from` to the end of `valid_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileChange {
    pub qualifications: Vec<ServiceType>,
    pub certificate_id: String,
    pub stars: u32,
    pub valid_from: String,
    pub valid_until: String,
}

/// Apply `change` to `profile` at `now`, checked whole first: at least one qualification, a
/// certificate number no other profile in `others` holds, stars in [`STARS`], a valid-from date
/// not after today and a valid-until date after it, at most [`MAX_VALIDITY_YEARS`] later.
pub fn edit(
    profile: &mut TechnicianProfile,
    change: &ProfileChange,
    others: &[TechnicianProfile],
    actor: Actor,
    utc_offset_ms: Millis,
    now: Millis,
) -> Result<(), DomainError> {
    check_may(actor, ProfileAction::Edit)?;
    let mut qualifications: Vec<ServiceType> = Vec::new();
    for q in ServiceType::ALL {
        if change.qualifications.contains(&q) {
            qualifications.push(q);
        }
    }
    if qualifications.is_empty() {
        return Err(DomainError::NoQualifications);
    }
    let certificate_id = certificate_no(&change.certificate_id)?;
    if let Some(holder) = others
        .iter()
        .find(|o| o.technician_id != profile.technician_id && o.certificate_id == certificate_id)
    {
        return Err(DomainError::DuplicateCertificate {
            certificate_id,
            technician_id: holder.technician_id.clone(),
        });
    }
    if !STARS.contains(&change.stars) {
        return Err(DomainError::BadStars(change.stars));
    }
    let (from, expiry) = validity(change, utc_offset_ms, now)?;
    profile.qualifications = qualifications;
    profile.certificate_id = certificate_id;
    profile.certificate_stars = change.stars;
    profile.certificate_valid_from_ms = Some(from);
    profile.certificate_expiry_ms = expiry;
    Ok(())
}

/// A certificate number: trimmed, not empty, no spaces or slashes, at most
/// [`MAX_CERTIFICATE_NO_CHARS`].
fn certificate_no(text: &str) -> Result<String, DomainError> {
    let t = text.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= MAX_CERTIFICATE_NO_CHARS
        && !t
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c.is_control());
    if ok {
        Ok(t.to_owned())
    } else {
        Err(DomainError::BadCertificateNo(t.to_owned()))
    }
}

/// The start of the valid-from day and the end of the valid-until day (the expiry), in UTC ms.
fn validity(
    change: &ProfileChange,
    utc_offset_ms: Millis,
    now: Millis,
) -> Result<(Millis, Millis), DomainError> {
    let day_start = |days: i64| days * DAY - utc_offset_ms;
    let from = crate::import::date(&change.valid_from).ok_or_else(|| {
        DomainError::BadValidFrom(change.valid_from.trim().to_owned(), "not a date")
    })?;
    let today = (now + utc_offset_ms).div_euclid(DAY);
    if from > today {
        return Err(DomainError::BadValidFrom(
            change.valid_from.trim().to_owned(),
            "after today; record a certificate once it is issued",
        ));
    }
    let until = crate::import::date(&change.valid_until).ok_or_else(|| {
        DomainError::BadValidUntil(change.valid_until.trim().to_owned(), "not a date")
    })?;
    if until < from {
        return Err(DomainError::BadValidUntil(
            change.valid_until.trim().to_owned(),
            "before the valid-from date",
        ));
    }
    if day_start(until) >= day_start(from) + MAX_VALIDITY_YEARS * 366 * DAY {
        return Err(DomainError::BadValidUntil(
            change.valid_until.trim().to_owned(),
            "more than ten years after the valid-from date",
        ));
    }
    Ok((day_start(from), day_start(until + 1)))
}

/// Withdraw the certificate at `now` with a reason; recorded on the profile (who, when, why).
/// From then on the technician cannot be assigned and the public page says "withdrawn".
pub fn withdraw(
    profile: &mut TechnicianProfile,
    action_id: &str,
    reason: &str,
    by: &str,
    actor: Actor,
    now: Millis,
) -> Result<(), DomainError> {
    check_may(actor, ProfileAction::Withdraw)?;
    if profile.certificate_withdrawn_at_ms.is_some() {
        return Err(DomainError::AlreadyWithdrawn(
            profile.certificate_id.clone(),
        ));
    }
    record(
        profile,
        action_id,
        CertificateActionKind::Withdrawn,
        reason,
        by,
        now,
    )?;
    profile.certificate_withdrawn_at_ms = Some(now);
    Ok(())
}

/// Reinstate a withdrawn certificate at `now` with a reason (admins only); the withdrawal stays
/// in the profile's record.
pub fn reinstate(
    profile: &mut TechnicianProfile,
    action_id: &str,
    reason: &str,
    by: &str,
    actor: Actor,
    now: Millis,
) -> Result<(), DomainError> {
    check_may(actor, ProfileAction::Reinstate)?;
    if profile.certificate_withdrawn_at_ms.is_none() {
        return Err(DomainError::NotWithdrawn(profile.certificate_id.clone()));
    }
    record(
        profile,
        action_id,
        CertificateActionKind::Reinstated,
        reason,
        by,
        now,
    )?;
    profile.certificate_withdrawn_at_ms = None;
    Ok(())
}

fn record(
    profile: &mut TechnicianProfile,
    id: &str,
    kind: CertificateActionKind,
    reason: &str,
    by: &str,
    now: Millis,
) -> Result<(), DomainError> {
    if reason.trim().is_empty() {
        return Err(DomainError::ProfileReasonRequired);
    }
    if profile.certificate_actions.iter().any(|a| a.id == id) {
        return Err(DomainError::DuplicateId(id.to_owned()));
    }
    profile.certificate_actions.push(CertificateAction {
        id: id.to_owned(),
        kind,
        certificate_id: profile.certificate_id.clone(),
        by: by.to_owned(),
        at_ms: now,
        reason: reason.trim().to_owned(),
    });
    Ok(())
}

/// The local date of `at` as `YYYY-MM-DD` (the edit form shows the dates it takes).
pub fn local_date(at: Millis, utc_offset_ms: Millis) -> String {
    let d = crate::numbering::civil_from_days((at + utc_offset_ms).div_euclid(DAY));
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// The last day the certificate is valid (the day before its expiry), as a local date.
pub fn valid_until_date(profile: &TechnicianProfile, utc_offset_ms: Millis) -> String {
    local_date(profile.certificate_expiry_ms - 1, utc_offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed;

    /// 2026-11-30 00:00 UTC, the tests' day; the service centre is at UTC+8.
    const NOW: Millis = 1_795_996_800_000 + 10 * HOUR;
    const CST: Millis = 8 * HOUR;

    fn change() -> ProfileChange {
        ProfileChange {
            qualifications: vec![
                ServiceType::Maintenance,
                ServiceType::Repair,
                ServiceType::Repair,
            ],
            certificate_id: " CERT-HA-0009 ".to_owned(),
            stars: 4,
            valid_from: "2026-01-01".to_owned(),
            valid_until: "2027-12-31".to_owned(),
        }
    }

    fn profiles() -> (TechnicianProfile, TechnicianProfile) {
        (
            seed::technician("tech.a", "张师傅", "13900000001", "CERT-HA-0001", NOW),
            seed::technician("tech.b", "李师傅", "13900000002", "CERT-HA-0002", NOW),
        )
    }

    #[test]
    fn only_admins_edit_and_reinstate_dispatchers_withdraw_technicians_nothing() {
        use Actor::*;
        use ProfileAction::*;
        for (actor, action, allowed) in [
            (Admin, Edit, true),
            (Admin, Withdraw, true),
            (Admin, Reinstate, true),
            (Dispatcher, Edit, false),
            (Dispatcher, Withdraw, true),
            (Dispatcher, Reinstate, false),
            (Technician, Edit, false),
            (Technician, Withdraw, false),
            (Technician, Reinstate, false),
        ] {
            assert_eq!(may(actor, action), allowed, "{actor:?} {action:?}");
        }
        let (mut a, b) = profiles();
        let before = a.clone();
        let err = edit(&mut a, &change(), &[b], Actor::Dispatcher, CST, NOW).unwrap_err();
        assert_eq!(err.code(), crate::Code::ProfileNotAllowed, "{err}");
        assert_eq!(a, before, "a refused edit changes nothing");
    }

    #[test]
    fn an_edit_sets_qualifications_number_stars_and_the_local_validity() {
        let (mut a, b) = profiles();
        edit(&mut a, &change(), &[b], Actor::Admin, CST, NOW).expect("a sane edit");
        assert_eq!(
            a.qualifications,
            [ServiceType::Repair, ServiceType::Maintenance],
            "a set, in the service types' order"
        );
        assert_eq!(a.certificate_id, "CERT-HA-0009", "trimmed");
        assert_eq!(a.certificate_stars, 4);
        let jan1 = local_date(a.certificate_valid_from_ms.expect("valid-from"), CST);
        assert_eq!(jan1, "2026-01-01", "valid from the start of that local day");
        assert_eq!(
            valid_until_date(&a, CST),
            "2027-12-31",
            "valid to the end of that day"
        );
        assert_eq!(
            local_date(a.certificate_expiry_ms, CST),
            "2028-01-01",
            "expires at the next local midnight"
        );
        assert_eq!(
            a.certificate_expiry_ms % (24 * HOUR),
            16 * HOUR,
            "00:00 at UTC+8"
        );
    }

    #[test]
    fn bad_edits_are_refused_with_their_field_s_code_and_change_nothing() {
        use crate::Code::*;
        let cases: Vec<(ProfileChange, crate::Code)> = vec![
            (
                ProfileChange {
                    qualifications: vec![],
                    ..change()
                },
                ProfileNoQualifications,
            ),
            (
                ProfileChange {
                    certificate_id: "  ".into(),
                    ..change()
                },
                ProfileBadCertificateNo,
            ),
            (
                ProfileChange {
                    certificate_id: "HA 1".into(),
                    ..change()
                },
                ProfileBadCertificateNo,
            ),
            (
                ProfileChange {
                    certificate_id: "HA/1".into(),
                    ..change()
                },
                ProfileBadCertificateNo,
            ),
            (
                ProfileChange {
                    certificate_id: "CERT-HA-0002".into(),
                    ..change()
                },
                ProfileDuplicateCertificate,
            ),
            (
                ProfileChange {
                    stars: 0,
                    ..change()
                },
                ProfileBadStars,
            ),
            (
                ProfileChange {
                    stars: 6,
                    ..change()
                },
                ProfileBadStars,
            ),
            (
                ProfileChange {
                    valid_from: "2026-02-30".into(),
                    ..change()
                },
                ProfileBadValidFrom,
            ),
            (
                ProfileChange {
                    valid_from: "2026-12-01".into(),
                    ..change()
                },
                ProfileBadValidFrom,
            ),
            (
                ProfileChange {
                    valid_until: "soon".into(),
                    ..change()
                },
                ProfileBadValidUntil,
            ),
            (
                ProfileChange {
                    valid_until: "2025-12-31".into(),
                    ..change()
                },
                ProfileBadValidUntil,
            ),
            (
                ProfileChange {
                    valid_until: "2037-01-01".into(),
                    ..change()
                },
                ProfileBadValidUntil,
            ),
        ];
        for (c, code) in cases {
            let (mut a, b) = profiles();
            let before = a.clone();
            let err = edit(&mut a, &c, &[b], Actor::Admin, CST, NOW).unwrap_err();
            assert_eq!(err.code(), code, "{c:?}: {err}");
            assert_eq!(a, before, "a refused edit changes nothing: {c:?}");
        }
        let (mut a, b) = profiles();
        let own = ProfileChange {
            certificate_id: "CERT-HA-0001".into(),
            ..change()
        };
        edit(&mut a, &own, &[b], Actor::Admin, CST, NOW).expect("keeping one's own number");
        let today = ProfileChange {
            valid_from: "2026-11-30".into(),
            ..change()
        };
        edit(&mut a, &today, &[], Actor::Admin, CST, NOW).expect("valid from today");
    }

    #[test]
    fn a_withdrawal_records_who_when_why_and_only_an_admin_reinstates() {
        let (mut a, _) = profiles();
        let err = withdraw(&mut a, "w1", " ", "disp", Actor::Dispatcher, NOW).unwrap_err();
        assert_eq!(
            err.code(),
            crate::Code::ProfileReasonRequired,
            "a reason is required"
        );
        assert_eq!(a.certificate_withdrawn_at_ms, None, "nothing changed");
        withdraw(&mut a, "w1", " 客户投诉 ", "disp", Actor::Dispatcher, NOW).expect("withdraw");
        assert_eq!(
            a.certificate_state(NOW),
            crate::reference::CertificateState::Withdrawn,
            "withdrawn at once"
        );
        assert_eq!(
            a.certificate_actions,
            [CertificateAction {
                id: "w1".into(),
                kind: CertificateActionKind::Withdrawn,
                certificate_id: "CERT-HA-0001".into(),
                by: "disp".into(),
                at_ms: NOW,
                reason: "客户投诉".into(),
            }],
            "who, when and why are on the profile"
        );
        let again = withdraw(&mut a, "w2", "again", "disp", Actor::Dispatcher, NOW).unwrap_err();
        assert_eq!(again.code(), crate::Code::ProfileAlreadyWithdrawn);
        let by_disp = reinstate(&mut a, "r1", "error", "disp", Actor::Dispatcher, NOW).unwrap_err();
        assert_eq!(
            by_disp.code(),
            crate::Code::ProfileNotAllowed,
            "dispatchers do not reinstate"
        );
        reinstate(
            &mut a,
            "r1",
            "withdrawn in error",
            "admin",
            Actor::Admin,
            NOW + 1,
        )
        .expect("an admin reinstates");
        assert!(a.certificate_valid_at(NOW + 2), "valid again");
        assert_eq!(
            a.certificate_actions.len(),
            2,
            "the withdrawal stays on record"
        );
        let not = reinstate(&mut a, "r2", "x", "admin", Actor::Admin, NOW).unwrap_err();
        assert_eq!(not.code(), crate::Code::ProfileNotWithdrawn);
    }

    #[test]
    fn local_dates_round_trip_through_the_import_date_parser() {
        for text in ["2000-01-01", "2024-02-29", "2026-11-30", "2099-12-31"] {
            let days = crate::import::date(text).expect("a date");
            assert_eq!(local_date(days * DAY - CST, CST), text, "the same day back");
        }
    }
}
