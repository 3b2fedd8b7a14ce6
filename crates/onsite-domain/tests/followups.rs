//! Follow-up calls (回访) and complaints: when a call is due, what no answer does, the complaint's
//! lifecycle, and every refusal leaving the order as it was.

use onsite_domain::edit::{self, VisitEdit};
use onsite_domain::followup::{self, Answer, CallOutcome, FollowUpState};
use onsite_domain::order::Order;
use onsite_domain::service::ServiceSettings;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::Visit;
use onsite_domain::{Code, HOUR, MINUTE, Millis, seed, templates};
use onsite_testkit::Reference;
use onsite_testkit::clock::DAY;

const SIG: &str = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// When the demo job is signed.
const SIGNED: Millis = DAY + 12 * HOUR;

/// The demo order of tech.a and its visit, signed at [`SIGNED`].
fn job() -> (Order, Visit) {
    let now = DAY + 9 * HOUR;
    let library = templates::builtin_library();
    let profile = seed::technician("tech.a", "甲", "13900000001", "HC-1", now - 24 * HOUR);
    let r = Reference::demo(profile.clone()).with_fees(seed::fee_schedule(now - 24 * HOUR));
    let mut order = Order::create(seed::order(0, DAY), &SlaPolicy::default(), now).unwrap();
    order.assign("t1", &profile, "", "disp", now).unwrap();
    let mut v = Visit::start(&order, "tech.a", &library).unwrap();
    let mut edits = seed::job_edits(order.service_type, "job");
    edits.push(VisitEdit::Sign {
        event_id: "sign".into(),
        signer_name: "张伟".into(),
        image_sha256: SIG.into(),
    });
    for (i, e) in edits.into_iter().enumerate() {
        edit::apply(
            &mut v,
            e.clone(),
            &r.context(&order, now + i as i64 * MINUTE),
        )
        .unwrap_or_else(|err| panic!("{e:?} applies: {err}"));
    }
    v.signature
        .as_mut()
        .expect("the job is signed")
        .signed_at_ms = SIGNED;
    (order, v)
}

fn settings() -> ServiceSettings {
    seed::service_settings(DAY - 30 * 24 * HOUR)
}

fn answer(n: u32, outcome: CallOutcome, words: &str) -> Answer {
    Answer {
        call_id: format!("call-{n}"),
        complaint_id: format!("complaint-{n}"),
        technician_id: "tech.a".into(),
        outcome,
        words: words.into(),
    }
}

fn code<T>(r: Result<T, onsite_domain::DomainError>) -> Code {
    r.err().expect("the call must be refused").code()
}

#[test]
fn a_completion_gives_a_call_due_within_the_window_and_overdue_after() {
    let (order, visit) = job();
    let s = settings();
    let open = followup::open(
        std::slice::from_ref(&order),
        std::slice::from_ref(&visit),
        &s,
    );
    assert_eq!(open.len(), 1, "one completion, one follow-up");
    let f = &open[0];
    assert_eq!(
        f.due_at_ms,
        SIGNED + 48 * HOUR,
        "due 48 h after the signature"
    );
    assert_eq!(f.attempts, 0, "no call yet");
    assert!(
        !f.overdue(SIGNED + 48 * HOUR),
        "not overdue at the due time itself"
    );
    assert!(f.overdue(SIGNED + 48 * HOUR + 1), "overdue one ms later");
}

#[test]
fn no_answer_stays_open_counts_attempts_and_sets_the_next_try() {
    let (mut order, visit) = job();
    let s = settings();
    let visits = std::slice::from_ref(&visit);
    for n in 1..=3u32 {
        let at = SIGNED + i64::from(n) * 10 * HOUR;
        followup::record(
            &mut order,
            visits,
            &s,
            answer(n, CallOutcome::NoAnswer, ""),
            "disp",
            at,
        )
        .expect("no answer is recorded");
        let f = followup::follow_up(&order, "tech.a", SIGNED, &s);
        assert_eq!(f.state, FollowUpState::Open, "no answer leaves it open");
        assert_eq!(f.attempts, n, "each unanswered call counts");
        assert_eq!(
            f.due_at_ms,
            at + 4 * HOUR,
            "next try 4 h after the last call"
        );
    }
    followup::record(
        &mut order,
        visits,
        &s,
        answer(9, CallOutcome::Satisfied, ""),
        "disp2",
        SIGNED + 2 * DAY,
    )
    .expect("the customer answers at last");
    let f = followup::follow_up(&order, "tech.a", SIGNED, &s);
    assert_eq!(f.state, FollowUpState::Satisfied, "closed as satisfied");
    assert_eq!(
        f.answered_by.as_deref(),
        Some("disp2"),
        "who answered is recorded"
    );
    assert_eq!(f.attempts, 3, "earlier attempts are kept");
    assert!(
        followup::open(std::slice::from_ref(&order), visits, &s).is_empty(),
        "an answered follow-up leaves the list"
    );
    let again = followup::record(
        &mut order,
        visits,
        &s,
        answer(10, CallOutcome::NoAnswer, ""),
        "disp",
        SIGNED + 3 * DAY,
    );
    assert_eq!(code(again), Code::FollowupAlreadyAnswered, "answered once");
}

#[test]
fn a_complaint_is_tracked_until_resolved_with_a_note() {
    let (mut order, visit) = job();
    let s = settings();
    let visits = std::slice::from_ref(&visit);
    let before = order.clone();
    let refused = followup::record(
        &mut order,
        visits,
        &s,
        answer(1, CallOutcome::Complaint, "  "),
        "disp",
        SIGNED + HOUR,
    );
    assert_eq!(
        code(refused),
        Code::FollowupWordsRequired,
        "a complaint needs the customer's words"
    );
    assert_eq!(order, before, "a refused answer changes nothing");
    let at = SIGNED + 5 * HOUR;
    followup::record(
        &mut order,
        visits,
        &s,
        answer(1, CallOutcome::Complaint, "空调还是有噪音"),
        "disp",
        at,
    )
    .expect("the complaint is recorded");
    assert_eq!(
        followup::follow_up(&order, "tech.a", SIGNED, &s).state,
        FollowUpState::Complaint,
        "a complaint closes the call"
    );
    let c = &order.complaints[0];
    assert_eq!(
        (c.words.as_str(), c.received_at_ms),
        ("空调还是有噪音", at),
        "words and time kept"
    );
    assert_eq!(
        c.resolve_by_ms,
        at + 48 * HOUR,
        "to be resolved within 48 h"
    );
    assert!(c.is_open(), "open until resolved");
    let before = order.clone();
    assert_eq!(
        code(followup::resolve_complaint(
            &mut order,
            "complaint-1",
            " ",
            "disp",
            at + HOUR
        )),
        Code::ComplaintNoteRequired,
        "resolving needs a note"
    );
    assert_eq!(
        code(followup::resolve_complaint(
            &mut order,
            "nope",
            "done",
            "disp",
            at + HOUR
        )),
        Code::ComplaintNotFound,
        "an unknown complaint"
    );
    assert_eq!(order, before, "refusals change nothing");
    followup::resolve_complaint(
        &mut order,
        "complaint-1",
        "上门清洗后噪音消除",
        "disp2",
        at + 48 * HOUR,
    )
    .expect("resolved");
    let c = &order.complaints[0];
    assert!(
        c.resolved_in_time(),
        "resolved exactly at the deadline is in time"
    );
    assert_eq!(
        c.resolution.as_ref().map(|r| r.by.as_str()),
        Some("disp2"),
        "who resolved it"
    );
    assert_eq!(
        code(followup::resolve_complaint(
            &mut order,
            "complaint-1",
            "again",
            "disp",
            at + 50 * HOUR
        )),
        Code::ComplaintAlreadyResolved,
        "resolved once"
    );
}

#[test]
fn only_signed_visits_since_the_start_date_have_a_follow_up() {
    let (mut order, mut visit) = job();
    let s = settings();
    let mut other = answer(1, CallOutcome::Satisfied, "");
    other.technician_id = "tech.b".into();
    assert_eq!(
        code(followup::record(
            &mut order,
            std::slice::from_ref(&visit),
            &s,
            other,
            "disp",
            SIGNED
        )),
        Code::FollowupNotFound,
        "tech.b has no signed visit on the order"
    );
    let late = seed::service_settings(SIGNED + 1);
    assert!(
        followup::open(
            std::slice::from_ref(&order),
            std::slice::from_ref(&visit),
            &late
        )
        .is_empty(),
        "a completion signed before follow-ups started gets none"
    );
    assert_eq!(
        code(followup::record(
            &mut order,
            std::slice::from_ref(&visit),
            &late,
            answer(2, CallOutcome::Satisfied, ""),
            "disp",
            SIGNED
        )),
        Code::FollowupNotFound,
        "and cannot be answered"
    );
    visit.signature = None;
    assert!(
        followup::open(
            std::slice::from_ref(&order),
            std::slice::from_ref(&visit),
            &s
        )
        .is_empty(),
        "an unsigned visit is no completion"
    );
}

#[test]
fn open_follow_ups_come_most_urgent_first() {
    let (order, visit) = job();
    let s = settings();
    let mut later = order.clone();
    later.order_id = "o-later".into();
    let mut v2 = visit.clone();
    v2.order_id = "o-later".into();
    v2.signature.as_mut().unwrap().signed_at_ms = SIGNED - HOUR;
    let orders = [order, later];
    let open = followup::open(&orders, &[visit, v2], &s);
    let ids: Vec<&str> = open.iter().map(|f| f.order_id.as_str()).collect();
    assert_eq!(
        ids[0], "o-later",
        "the one signed earlier is due earlier: {ids:?}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, .. Default::default() })]

    /// Whatever the calls' order of recording, the follow-up counts every unanswered call and is
    /// due the retry time after the latest one.
    #[test]
    fn attempts_and_due_time_follow_the_unanswered_calls(gaps in proptest::collection::vec(1i64..100, 0..6)) {
        let (mut order, visit) = job();
        let s = settings();
        let mut at = SIGNED;
        for (n, gap) in gaps.iter().enumerate() {
            at += gap * MINUTE;
            followup::record(&mut order, std::slice::from_ref(&visit), &s, answer(n as u32, CallOutcome::NoAnswer, ""), "disp", at).unwrap();
        }
        order.follow_ups.reverse();
        let f = followup::follow_up(&order, "tech.a", SIGNED, &s);
        proptest::prop_assert_eq!(f.attempts as usize, gaps.len());
        let expected = if gaps.is_empty() { SIGNED + 48 * HOUR } else { at + 4 * HOUR };
        proptest::prop_assert_eq!(f.due_at_ms, expected);
        proptest::prop_assert_eq!(f.state, FollowUpState::Open);
    }
}

#[test]
fn two_dispatchers_answering_offline_both_keep_their_call_after_merging() {
    let (order, visit) = job();
    let s = settings();
    let visits = std::slice::from_ref(&visit);
    let mut base = onsite_domain::doc::create(&order).expect("the order is a document");
    let mut a = base
        .fork()
        .with_actor(automerge::ActorId::from(b"disp-a".as_slice()));
    let mut b = base
        .fork()
        .with_actor(automerge::ActorId::from(b"disp-b".as_slice()));
    for (doc, n, outcome, words, at) in [
        (&mut a, 1, CallOutcome::Satisfied, "", SIGNED + HOUR),
        (
            &mut b,
            2,
            CallOutcome::Complaint,
            "师傅没穿鞋套",
            SIGNED + 2 * HOUR,
        ),
    ] {
        let mut o: Order = onsite_domain::doc::read(doc).expect("hydrates");
        followup::record(&mut o, visits, &s, answer(n, outcome, words), "disp", at)
            .expect("each dispatcher's answer is valid on their replica");
        onsite_domain::doc::write(doc, &o).expect("written");
    }
    a.merge(&mut b).expect("merge b into a");
    base.merge(&mut a).expect("merge a into the base");
    let merged: Order = onsite_domain::doc::read(&base).expect("hydrates");
    let back: Order = onsite_domain::doc::read(&a).expect("hydrates");
    assert_eq!(merged, back, "the replicas converge");
    assert_eq!(merged.follow_ups.len(), 2, "neither call is lost");
    assert_eq!(merged.complaints.len(), 1, "the complaint is tracked");
    assert_eq!(
        followup::follow_up(&merged, "tech.a", SIGNED, &s).state,
        FollowUpState::Satisfied,
        "the earliest closing call answers the follow-up"
    );
}
