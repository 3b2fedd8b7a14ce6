//! The conflict review queue's decisions (`resolve`): every conflict kind with every action it
//! allows and one it does not, refusals that change nothing, and open versus resolved entries.

use onsite_domain::edit::{self, VisitEdit};
use onsite_domain::order::{DispatchStatus, Order};
use onsite_domain::progress::ProgressKind;
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::resolve::{self, Choice, Request, ResolutionAction as A, Stamp};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::status::{self, Conflict, ConflictKind};
use onsite_domain::visit::Visit;
use onsite_domain::{Code, DomainError, HOUR, MINUTE, Millis, seed};
use onsite_testkit::Reference;

const DAY: Millis = 1_764_460_800_000; // 2025-11-30T00:00Z
const SIG: &str = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const WANG: &str = "tech.wang";
const LI: &str = "tech.li";

/// An order assigned to 王师傅, both technicians' profiles, and a clock.
struct World {
    order: Order,
    wang: Reference,
    li: Reference,
    now: Millis,
    next_id: u32,
}

impl World {
    fn new() -> World {
        let now = DAY + 8 * HOUR;
        let wang = seed::technician(WANG, "王师傅", "13900000001", "HC-2026-0001", now);
        let li = seed::technician(LI, "李师傅", "13900000002", "HC-2026-0002", now);
        let mut order = Order::create(seed::order(0, DAY), &SlaPolicy::default(), now).unwrap();
        order.assign("t1", &wang, "", "disp", now).unwrap();
        World {
            order,
            wang: Reference::demo(wang).with_fees(seed::fee_schedule(DAY)),
            li: Reference::demo(li).with_fees(seed::fee_schedule(DAY)),
            now,
            next_id: 0,
        }
    }

    fn profiles(&self) -> Vec<TechnicianProfile> {
        vec![self.wang.profile.clone(), self.li.profile.clone()]
    }

    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("id-{}", self.next_id)
    }

    fn reference(&self, tech: &str) -> &Reference {
        if tech == WANG { &self.wang } else { &self.li }
    }

    fn apply(&mut self, v: &mut Visit, e: VisitEdit) {
        self.now += MINUTE;
        let r = self.reference(&v.technician_id);
        edit::apply(v, e.clone(), &r.context(&self.order, self.now))
            .unwrap_or_else(|err| panic!("{e:?} applies: {err}"));
    }

    fn visit(&self, tech: &str) -> Visit {
        Visit::start(&self.order, tech, &self.reference(tech).library).unwrap()
    }

    /// `tech` arrived on site (the order must be theirs at the time).
    fn on_site(&mut self, tech: &str) -> Visit {
        let mut v = self.visit(tech);
        for kind in [ProgressKind::EnRoute, ProgressKind::Arrived] {
            let id = self.id();
            self.apply(&mut v, VisitEdit::Progress { id, kind });
        }
        v
    }

    /// `tech` did the whole job and the customer signed (the order must be theirs at the time).
    fn signed(&mut self, tech: &str) -> Visit {
        let mut v = self.visit(tech);
        for e in seed::job_edits(self.order.service_type, "job") {
            self.apply(&mut v, e);
        }
        let event_id = self.id();
        self.apply(
            &mut v,
            VisitEdit::Sign {
                event_id,
                signer_name: "张伟".into(),
                image_sha256: SIG.into(),
            },
        );
        v
    }

    fn reassign(&mut self, to: &str) {
        let p = self.reference(to).profile.clone();
        let id = self.id();
        self.order
            .assign(&id, &p, "rebalanced", "disp", self.now)
            .unwrap();
    }

    fn set_status(&mut self, s: DispatchStatus) {
        self.order
            .set_status(s, "customer called", self.now)
            .unwrap();
    }

    fn conflicts(&self, visits: &[&Visit]) -> Vec<Conflict> {
        status::derive(&self.order, visits.iter().copied()).conflicts
    }

    fn only(&self, visits: &[&Visit], kind: ConflictKind) -> Conflict {
        let found: Vec<Conflict> = self
            .conflicts(visits)
            .into_iter()
            .filter(|c| c.code() == kind)
            .collect();
        assert_eq!(found.len(), 1, "one {kind:?} conflict: {found:?}");
        found[0].clone()
    }

    /// Resolve `conflict` with `action` (about `tech`), returning the refusal if any; a refused
    /// decision must leave the order exactly as it was.
    fn resolve(
        &mut self,
        visits: &[&Visit],
        conflict: &Conflict,
        action: A,
        tech: Option<&str>,
        note: &str,
    ) -> Result<(), DomainError> {
        let before = self.order.clone();
        let req = Request {
            conflict: conflict.key(),
            choice: Choice {
                action,
                technician_id: tech.map(str::to_owned),
            },
            note: note.to_owned(),
        };
        let (rid, tid) = (self.id(), self.id());
        self.now += MINUTE;
        let profiles = self.profiles();
        let stamp = Stamp {
            resolution_id: &rid,
            transfer_id: &tid,
            by: "disp",
            now: self.now,
        };
        let r = resolve::resolve(
            &mut self.order,
            visits.iter().copied(),
            &profiles,
            &req,
            stamp,
        );
        match r {
            Ok(res) => {
                assert_eq!(
                    self.order.resolutions.last(),
                    Some(&res),
                    "the decision is recorded on the order"
                );
                assert_eq!(
                    (res.action, res.note.as_str(), res.by.as_str(), res.at_ms),
                    (action, note.trim(), "disp", self.now),
                    "with what, why, who and when"
                );
                Ok(())
            }
            Err(e) => {
                assert_eq!(
                    self.order, before,
                    "a refused decision changes nothing: {e}"
                );
                Err(e)
            }
        }
    }

    fn open_count(&self, visits: &[&Visit]) -> usize {
        resolve::review(&self.order, &self.conflicts(visits))
            .iter()
            .filter(|e| e.is_open())
            .count()
    }
}

fn code(r: Result<(), DomainError>) -> Code {
    r.expect_err("refused").code()
}

#[test]
fn every_conflict_kind_offers_its_actions() {
    let c = |conflict: Conflict| {
        conflict
            .choices()
            .into_iter()
            .map(|c| (c.action, c.technician_id))
            .collect::<Vec<_>>()
    };
    let s = |t: &str| Some(t.to_owned());
    assert_eq!(
        c(Conflict::CancelledButCompleted {
            technician_id: WANG.into()
        }),
        [(A::AcceptCompletion, s(WANG)), (A::KeepCancelled, None)]
    );
    assert_eq!(
        c(Conflict::StoppedWhileOnSite {
            technician_id: WANG.into(),
            status: DispatchStatus::OnHold
        }),
        [(A::Resume, None), (A::KeepStopped, None)]
    );
    assert_eq!(
        c(Conflict::ReassignedWhileOnSite {
            previous: WANG.into(),
            current: s(LI)
        }),
        [(A::GiveBack, s(WANG)), (A::KeepReassignment, None)]
    );
    assert_eq!(
        c(Conflict::CompletedByPreviousAssignee {
            technician_id: WANG.into(),
            current: s(LI)
        }),
        [(A::AcceptCompletion, s(WANG)), (A::KeepAssignee, None)]
    );
    assert_eq!(
        c(Conflict::MultipleCompletions {
            technician_ids: vec![LI.into(), WANG.into()]
        }),
        [(A::ChooseCompletion, s(LI)), (A::ChooseCompletion, s(WANG))]
    );
    assert_eq!(
        c(Conflict::ModifiedAfterSigning {
            technician_id: WANG.into(),
            sections: vec!["order".into()]
        }),
        [(A::Acknowledge, None)],
        "a record modified after signing is only acknowledged, never fixed"
    );
}

#[test]
fn cancelled_but_completed_accept_reopens_the_order() {
    let mut w = World::new();
    let v = w.signed(WANG);
    w.set_status(DispatchStatus::Cancelled);
    let c = w.only(&[&v], ConflictKind::CancelledButCompleted);
    assert_eq!(
        code(w.resolve(&[&v], &c, A::Resume, None, "x")),
        Code::ConflictActionNotAllowed,
        "resume is not an answer to a completed cancelled order"
    );
    assert_eq!(
        code(w.resolve(&[&v], &c, A::AcceptCompletion, Some(WANG), "  ")),
        Code::InputEmpty,
        "a decision needs a note"
    );
    w.resolve(
        &[&v],
        &c,
        A::AcceptCompletion,
        Some(WANG),
        "customer paid, keep it",
    )
    .expect("accept");
    assert_eq!(
        w.order.status,
        DispatchStatus::Open,
        "the order is reopened"
    );
    assert!(w.conflicts(&[&v]).is_empty(), "the contradiction is gone");
    let queue = resolve::review(&w.order, &w.conflicts(&[&v]));
    assert_eq!(queue.len(), 1, "the decision stays listed: {queue:?}");
    assert!(!queue[0].is_open(), "as resolved");
    assert_eq!(queue[0].kind, ConflictKind::CancelledButCompleted);
    assert_eq!(
        code(w.resolve(&[&v], &c, A::KeepCancelled, None, "x")),
        Code::ConflictNotFound,
        "a conflict no longer derived cannot be resolved again"
    );
    // Cancelled again: the same contradiction is open again.
    w.set_status(DispatchStatus::Cancelled);
    assert_eq!(
        w.open_count(&[&v]),
        1,
        "a new cancellation is a new decision"
    );
}

#[test]
fn cancelled_but_completed_can_stay_cancelled() {
    let mut w = World::new();
    let v = w.signed(WANG);
    w.set_status(DispatchStatus::Cancelled);
    let c = w.only(&[&v], ConflictKind::CancelledButCompleted);
    assert_eq!(w.open_count(&[&v]), 1);
    w.resolve(&[&v], &c, A::KeepCancelled, None, "duplicate order")
        .expect("keep cancelled");
    assert_eq!(w.order.status, DispatchStatus::Cancelled, "still cancelled");
    assert_eq!(
        w.conflicts(&[&v]),
        vec![c.clone()],
        "still derived: the facts are the facts"
    );
    assert_eq!(w.open_count(&[&v]), 0, "but resolved, not open");
    assert_eq!(
        code(w.resolve(&[&v], &c, A::AcceptCompletion, Some(WANG), "x")),
        Code::ConflictAlreadyResolved,
        "one decision per conflict"
    );
}

#[test]
fn stopped_while_on_site_resume_or_keep() {
    for status in [DispatchStatus::OnHold, DispatchStatus::Cancelled] {
        let mut w = World::new();
        let v = w.on_site(WANG);
        w.set_status(status);
        let c = w.only(&[&v], ConflictKind::StoppedWhileOnSite);
        assert_eq!(
            code(w.resolve(&[&v], &c, A::GiveBack, Some(WANG), "x")),
            Code::ConflictActionNotAllowed
        );
        w.resolve(&[&v], &c, A::Resume, None, "parts arrived")
            .expect("resume");
        assert_eq!(w.order.status, DispatchStatus::Open, "reopened");
        assert_eq!(
            w.order.status_reason, "parts arrived",
            "with the note as reason"
        );
        assert!(w.conflicts(&[&v]).is_empty());

        let mut w = World::new();
        let v = w.on_site(WANG);
        w.set_status(status);
        let c = w.only(&[&v], ConflictKind::StoppedWhileOnSite);
        w.resolve(&[&v], &c, A::KeepStopped, None, "customer not home")
            .expect("keep stopped");
        assert_eq!(w.order.status, status, "stays stopped");
        assert_eq!(w.open_count(&[&v]), 0, "resolved");
    }
}

#[test]
fn stopped_while_on_site_then_stopped_differently_is_a_new_conflict() {
    let mut w = World::new();
    let v = w.on_site(WANG);
    w.set_status(DispatchStatus::OnHold);
    let c = w.only(&[&v], ConflictKind::StoppedWhileOnSite);
    w.resolve(&[&v], &c, A::KeepStopped, None, "wait for parts")
        .expect("keep stopped");
    w.set_status(DispatchStatus::Cancelled);
    let queue = resolve::review(&w.order, &w.conflicts(&[&v]));
    assert_eq!(
        queue.iter().map(|e| e.is_open()).collect::<Vec<_>>(),
        [true, false],
        "the cancellation is open, the hold's decision stays as history: {queue:?}"
    );
}

#[test]
fn reassigned_while_on_site_give_back_goes_through_assign() {
    let mut w = World::new();
    let v = w.on_site(WANG);
    w.reassign(LI);
    let c = w.only(&[&v], ConflictKind::ReassignedWhileOnSite);
    assert_eq!(
        code(w.resolve(&[&v], &c, A::GiveBack, Some(LI), "x")),
        Code::ConflictActionNotAllowed,
        "the order goes back to the technician on site, no one else"
    );
    assert_eq!(
        code(w.resolve(&[&v], &c, A::Acknowledge, None, "x")),
        Code::ConflictActionNotAllowed
    );
    w.resolve(
        &[&v],
        &c,
        A::GiveBack,
        Some(WANG),
        "王师傅 is already there",
    )
    .expect("give back");
    assert_eq!(w.order.assignee.as_deref(), Some(WANG), "back with 王师傅");
    let last = w.order.transfers.last().expect("a transfer");
    assert_eq!(
        (last.from.as_deref(), last.to.as_str(), last.reason.as_str()),
        (Some(LI), WANG, "王师傅 is already there"),
        "the transfer history keeps the give-back"
    );
    assert!(w.conflicts(&[&v]).is_empty());
}

#[test]
fn give_back_is_refused_when_the_technician_no_longer_qualifies() {
    let mut w = World::new();
    let v = w.on_site(WANG);
    w.reassign(LI);
    w.wang.profile.certificate_withdrawn_at_ms = Some(w.now);
    let c = w.only(&[&v], ConflictKind::ReassignedWhileOnSite);
    assert_eq!(
        code(w.resolve(&[&v], &c, A::GiveBack, Some(WANG), "back")),
        Code::OrderNotQualified,
        "the qualification check of Order::assign applies"
    );
    w.resolve(
        &[&v],
        &c,
        A::KeepReassignment,
        None,
        "certificate withdrawn",
    )
    .expect("keep the reassignment");
    assert_eq!(w.order.assignee.as_deref(), Some(LI));
    assert_eq!(w.open_count(&[&v]), 0);
}

#[test]
fn completed_by_previous_assignee_accept_or_keep() {
    let mut w = World::new();
    let v = w.signed(WANG);
    w.reassign(LI);
    let c = w.only(&[&v], ConflictKind::CompletedByPreviousAssignee);
    assert_eq!(
        code(w.resolve(&[&v], &c, A::AcceptCompletion, Some(LI), "x")),
        Code::ConflictActionNotAllowed,
        "only the completing technician's work can be accepted"
    );
    w.resolve(&[&v], &c, A::AcceptCompletion, Some(WANG), "done is done")
        .expect("accept");
    assert_eq!(
        w.order.assignee.as_deref(),
        Some(WANG),
        "the order is theirs"
    );
    assert!(w.conflicts(&[&v]).is_empty());

    let mut w = World::new();
    let v = w.signed(WANG);
    w.reassign(LI);
    let c = w.only(&[&v], ConflictKind::CompletedByPreviousAssignee);
    w.resolve(&[&v], &c, A::KeepAssignee, None, "李师傅 redoes it")
        .expect("keep");
    assert_eq!(w.order.assignee.as_deref(), Some(LI));
    assert_eq!(w.open_count(&[&v]), 0);
}

#[test]
fn multiple_completions_choose_one_record() {
    let mut w = World::new();
    let v1 = w.signed(WANG);
    w.reassign(LI);
    let v2 = w.signed(LI);
    let visits = [&v1, &v2];
    let c = w.only(&visits, ConflictKind::MultipleCompletions);
    assert_eq!(
        w.open_count(&visits),
        2,
        "multiple completions and 王师傅's"
    );
    assert_eq!(
        code(w.resolve(&visits, &c, A::ChooseCompletion, Some("tech.zhao"), "x")),
        Code::ConflictActionNotAllowed,
        "only a technician who signed can be chosen"
    );
    assert_eq!(
        code(w.resolve(&visits, &c, A::ChooseCompletion, None, "x")),
        Code::ConflictActionNotAllowed
    );
    w.resolve(
        &visits,
        &c,
        A::ChooseCompletion,
        Some(WANG),
        "first visit counts",
    )
    .expect("choose");
    assert_eq!(
        w.order.assignee.as_deref(),
        Some(WANG),
        "the chosen one's order"
    );
    let queue = resolve::review(&w.order, &w.conflicts(&visits));
    assert!(
        queue.iter().all(|e| !e.is_open()),
        "the choice settles 李师傅's completion too: {queue:?}"
    );
    assert!(
        queue
            .iter()
            .any(|e| e.kind == ConflictKind::CompletedByPreviousAssignee),
        "which stays listed as resolved"
    );
}

#[test]
fn modified_after_signing_is_acknowledged_and_stays_evidence() {
    let mut w = World::new();
    let v = w.signed(WANG);
    w.order.customer.address = "上海市徐汇区 另一个地址".into();
    let c = w.only(&[&v], ConflictKind::ModifiedAfterSigning);
    for action in [A::AcceptCompletion, A::KeepCancelled, A::Resume] {
        assert_eq!(
            code(w.resolve(&[&v], &c, action, Some(WANG), "x")),
            Code::ConflictActionNotAllowed,
            "{action:?} does not fix a record"
        );
    }
    w.resolve(&[&v], &c, A::Acknowledge, None, "address typo corrected")
        .expect("acknowledge");
    assert_eq!(
        w.conflicts(&[&v]),
        vec![c],
        "the record still fails verification"
    );
    assert_eq!(w.open_count(&[&v]), 0, "but the conflict is resolved");
}

#[test]
fn an_unknown_conflict_is_refused() {
    let mut w = World::new();
    let v = w.on_site(WANG);
    let ghost = Conflict::StoppedWhileOnSite {
        technician_id: WANG.into(),
        status: DispatchStatus::OnHold,
    };
    assert_eq!(
        code(w.resolve(&[&v], &ghost, A::Resume, None, "x")),
        Code::ConflictNotFound,
        "nothing to decide on an order without the conflict"
    );
}

#[test]
fn resolutions_survive_the_document_round_trip() {
    let mut w = World::new();
    let v = w.on_site(WANG);
    w.set_status(DispatchStatus::OnHold);
    let c = w.only(&[&v], ConflictKind::StoppedWhileOnSite);
    w.resolve(&[&v], &c, A::KeepStopped, None, "later").unwrap();
    let mut doc = automerge::AutoCommit::new();
    autosurgeon::reconcile(&mut doc, &w.order).unwrap();
    let back: Order = autosurgeon::hydrate(&doc).unwrap();
    assert_eq!(back, w.order, "the decision is part of the order document");
    // An order written before decisions existed has none.
    use automerge::transaction::Transactable;
    doc.delete(automerge::ROOT, "resolutions").unwrap();
    let old: Order = autosurgeon::hydrate(&doc).expect("an older order still hydrates");
    assert!(old.resolutions.is_empty());
}
