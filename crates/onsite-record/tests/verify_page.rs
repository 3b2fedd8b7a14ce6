//! The relay's public verification page: valid / not valid / unknown, and never customer data.

mod common;

use onsite_domain::edit::{self, VisitEdit};
use onsite_domain::reference::ServiceType;
use onsite_record::{Lang, NotValidReason, VerifyState, VerifySummary, verify_page};

const CN: i32 = 480;

/// Customer personal data that must never reach the public page.
fn personal(f: &common::Fixture) -> Vec<String> {
    let c = &f.order.customer;
    let a = f.order.appliance().unwrap();
    vec![
        c.name.clone(),
        c.phone.clone(),
        c.address.clone(),
        c.address.split_whitespace().next().unwrap().to_owned(),
        a.serial.clone(),
        f.visit.rating.as_ref().unwrap().comment.clone(),
        f.visit.signature.as_ref().unwrap().signer_name.clone(),
    ]
}

fn assert_no_personal_data(f: &common::Fixture, page: &str) {
    for p in personal(f) {
        assert!(
            !page.contains(&p),
            "public page leaks customer data {p:?}:\n{page}"
        );
    }
}

#[test]
fn a_valid_record_shows_date_service_type_and_technician_only() {
    let f = common::signed();
    let sig = f.visit.signature.as_ref().unwrap();
    let s = VerifySummary::check(
        &f.order,
        std::slice::from_ref(&f.visit),
        &sig.record_hash,
        CN,
    );
    assert_eq!(s.state, VerifyState::Valid);
    assert_eq!(s.service_type, Some(ServiceType::Repair));
    assert_eq!(s.technician_name.as_deref(), Some("王建国"));
    assert_eq!(s.signed_at_ms, Some(sig.signed_at_ms));
    let zh = verify_page(&s, Lang::ZhCn);
    assert!(zh.contains("data-state=\"ok\""), "valid state marked");
    assert!(zh.contains("有效"));
    assert!(zh.contains("2026-11-30"), "signing date");
    assert!(zh.contains("维修"), "service type label");
    assert!(zh.contains("王建国"), "technician name");
    assert_no_personal_data(&f, &zh);
    let en = verify_page(&s, Lang::En);
    assert!(en.contains(">Valid<") && en.contains("Repair"));
    assert_no_personal_data(&f, &en);
    let upper = sig.record_hash.to_ascii_uppercase();
    assert_eq!(
        VerifySummary::check(&f.order, std::slice::from_ref(&f.visit), &upper, CN).state,
        VerifyState::Valid,
        "hex case in the URL does not matter"
    );
}

#[test]
fn a_record_changed_after_signing_is_not_valid() {
    let f = common::signed();
    let sig = f.visit.signature.clone().unwrap();
    let mut order = f.order.clone();
    order.customer.address = "上海市黄浦区人民大道 1 号".into();
    let s = VerifySummary::check(&order, std::slice::from_ref(&f.visit), &sig.record_hash, CN);
    assert_eq!(
        s.state,
        VerifyState::NotValid {
            reason: NotValidReason::ModifiedAfterSigning
        }
    );
    let page = verify_page(&s, Lang::ZhCn);
    assert!(page.contains("data-state=\"bad\"") && page.contains("无效"));
    assert!(page.contains("签字后被修改"));
    assert!(
        !page.contains("人民大道"),
        "the changed address is not shown either"
    );
    assert_no_personal_data(&f, &page);
}

#[test]
fn an_earlier_signature_after_a_re_sign_is_superseded() {
    let mut f = common::signed();
    let first = f.visit.signature.clone().unwrap();
    let mut now = first.signed_at_ms;
    for e in [
        VisitEdit::Reopen {
            event_id: "ev-7".into(),
            reason: "客户要求更正配件序列号".into(),
        },
        VisitEdit::Sign {
            event_id: "ev-8".into(),
            signer_name: "张伟".into(),
            image_sha256: first.image_sha256.clone(),
        },
    ] {
        now += 60_000;
        edit::apply(&mut f.visit, e, &f.refs.context(&f.order, now)).expect("reopen and re-sign");
    }
    let second = f.visit.signature.clone().unwrap();
    assert_ne!(first.record_hash, second.record_hash);
    let visits = [f.visit.clone()];
    let old = VerifySummary::check(&f.order, &visits, &first.record_hash, CN);
    assert_eq!(
        old.state,
        VerifyState::NotValid {
            reason: NotValidReason::Superseded
        }
    );
    assert!(verify_page(&old, Lang::En).contains("withdrawn when the record was reopened"));
    let new = VerifySummary::check(&f.order, &visits, &second.record_hash, CN);
    assert_eq!(new.state, VerifyState::Valid);
}

#[test]
fn unknown_hashes_and_orders_show_nothing_but_unknown() {
    let f = common::signed();
    let visits = [f.visit.clone()];
    for claimed in ["", "zz", &"0".repeat(64), &"g".repeat(64)] {
        let s = VerifySummary::check(&f.order, &visits, claimed, CN);
        assert_eq!(s, VerifySummary::unknown(CN), "{claimed:?} is unknown");
    }
    let sig = f.visit.signature.as_ref().unwrap();
    let mut other_order = f.order.clone();
    other_order.order_id = "o-99999".into();
    assert_eq!(
        VerifySummary::check(&other_order, &visits, &sig.record_hash, CN).state,
        VerifyState::Unknown,
        "a visit of another order never vouches for this one"
    );
    let page = verify_page(&VerifySummary::unknown(CN), Lang::ZhCn);
    assert!(page.contains("data-state=\"unknown\"") && page.contains("未知"));
    assert!(!page.contains("<dl>"), "no facts for an unknown record");
    assert_no_personal_data(&f, &page);
}

#[test]
fn the_verify_page_escapes_the_technician_name() {
    let mut s = VerifySummary::unknown(CN);
    s.state = VerifyState::Valid;
    s.technician_name = Some("<img src=x onerror=alert(1)>".into());
    let page = verify_page(&s, Lang::En);
    assert!(!page.contains("<img"), "names are escaped");
}
