//! The `ref:bonus` document keeps every version of the formula: a month is paid with the version
//! in force on its first day, a new version starts in the current month or later, and a refused
//! version changes nothing.

use onsite_domain::bonus::{BonusError, BonusTerm, BonusVersions};
use onsite_domain::stats::Month;
use onsite_domain::{Code, HOUR, Millis, seed};

const CN: Millis = 8 * HOUR;
const NOV: Month = Month {
    year: 2026,
    month: 11,
};

fn versions() -> BonusVersions {
    BonusVersions::first(seed::bonus_formula(NOV.start_ms(CN) - 200 * 24 * HOUR))
        .expect("the demo formula is valid")
}

#[test]
fn a_new_version_applies_from_its_month_and_old_months_keep_theirs() {
    let mut doc = versions();
    let now = NOV.start_ms(CN) + 10 * 24 * HOUR;
    let mut richer = doc.latest().unwrap().clone();
    richer.per_completion_cents = 4_000;
    let added = doc
        .add(richer, NOV.next(), CN, now)
        .expect("next month is fine");
    assert_eq!(added.version, 2, "versions count up");
    assert_eq!(
        added.effective_from_ms,
        NOV.next().start_ms(CN),
        "local midnight of the 1st"
    );
    assert_eq!(doc.versions.len(), 2, "the old version is kept");
    assert_eq!(
        doc.in_force(NOV, CN).unwrap().version,
        1,
        "November keeps version 1"
    );
    assert_eq!(
        doc.in_force(NOV.next(), CN).unwrap().version,
        2,
        "December pays with version 2"
    );
    assert_eq!(
        doc.in_force(
            Month {
                year: 2025,
                month: 1
            },
            CN
        ),
        None,
        "no formula before the first version"
    );
    let mut again = doc.latest().unwrap().clone();
    again.cap_cents = 600_000;
    doc.add(again, NOV.next(), CN, now)
        .expect("a second change for the same month");
    assert_eq!(
        doc.in_force(NOV.next(), CN).unwrap().version,
        3,
        "of two versions starting together the later one is in force"
    );
}

#[test]
fn a_version_for_a_past_month_or_a_bad_formula_changes_nothing() {
    let now = NOV.start_ms(CN) + 10 * 24 * HOUR;
    let mut doc = versions();
    let before = doc.clone();
    let same = doc.latest().unwrap().clone();
    let err = doc.add(same.clone(), NOV.previous(), CN, now).unwrap_err();
    assert_eq!(err, BonusError::EffectiveInPast);
    assert_eq!(err.code(), Code::BonusEffectiveInPast);
    let mut bad = same;
    bad.terms.push(BonusTerm {
        figure: "fees_collected_cents".into(),
        weight_cents: 100,
        threshold: None,
    });
    let err = doc.add(bad, NOV, CN, now).unwrap_err();
    assert_eq!(
        err.code(),
        Code::BonusFigureNotAllowed,
        "paying on fees is refused"
    );
    assert_eq!(
        doc, before,
        "a refused version leaves the document as it was"
    );
}
