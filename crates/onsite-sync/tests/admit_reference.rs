//! The centre's own reference documents at the relay: `ref:bonus` (what the centre pays) and
//! `ref:service` (follow-up times, maintenance intervals) are written by admins only, and the
//! relay holds them to the domain's rules whatever client sent them — every version of the bonus
//! formula valid, no earlier version altered or dropped, the service settings valid. A forged
//! document is refused with its rule's code and nothing of it is stored.

use automerge::AutoCommit;
use onsite_domain::bonus::BonusVersions;
use onsite_domain::service::ServiceSettings;
use onsite_domain::{DocId, doc, seed};
use onsite_sync::memory::MemoryStore;
use onsite_testkit::DAY;
use onsite_testkit::sim::{Network, SimDevice};
use onsite_wire::{Code, Role, SyncResponse};

/// A relay holding the demo `ref:bonus` (one version) and `ref:service`, written by an admin's
/// device, which is returned.
fn relay_with_references() -> (Network<MemoryStore>, SimDevice) {
    let mut net = Network::in_memory();
    let mut admin = SimDevice::new("root", Role::Admin);
    let formula = seed::bonus_formula(DAY - seed::YEAR);
    admin.put(
        DocId::Bonus,
        &BonusVersions::first(formula).expect("the demo formula is valid"),
    );
    admin.put(DocId::ServiceSettings, &seed::service_settings(DAY));
    net.sync_until_quiet(&mut admin);
    (net, admin)
}

/// Change document `id` on `dev` as one committed change (what any client, modified or not, can
/// send).
fn edit<T>(dev: &mut SimDevice, id: &DocId, f: impl FnOnce(&mut T))
where
    T: autosurgeon::Hydrate + autosurgeon::Reconcile,
{
    let (d, _) = dev.docs.get_mut(id).expect("the device holds the document");
    let mut value: T = doc::read(d).expect("the document hydrates");
    f(&mut value);
    doc::write(d, &value).expect("the document reconciles");
    d.commit();
}

fn stored<T: autosurgeon::Hydrate>(net: &Network<MemoryStore>, id: &DocId) -> T {
    let bytes = net
        .relay
        .doc_bytes(id)
        .expect("the relay holds the document");
    let d: AutoCommit = doc::load(bytes).expect("it loads");
    doc::read(&d).expect("it reads as its kind")
}

fn refusal(resp: &SyncResponse, id: &DocId) -> Option<Code> {
    resp.rejected.iter().find(|r| &r.doc == id).map(|r| r.code)
}

/// Send `dev`'s pending change of `id`; assert it is refused with `code` and the relay still
/// holds `before`.
fn assert_refused<T>(net: &mut Network<MemoryStore>, dev: &mut SimDevice, id: &DocId, code: Code)
where
    T: autosurgeon::Hydrate + PartialEq + std::fmt::Debug,
{
    let before: T = stored(net, id);
    let resp = net.exchange(dev);
    assert_eq!(refusal(&resp, id), Some(code), "{id}: {:?}", resp.rejected);
    assert_eq!(
        stored::<T>(net, id),
        before,
        "nothing of a refused {id} change is stored"
    );
}

#[test]
fn an_admin_adds_a_bonus_version_and_the_relay_keeps_every_one() {
    let (mut net, mut admin) = relay_with_references();
    edit(&mut admin, &DocId::Bonus, |b: &mut BonusVersions| {
        let mut next = b.versions[0].clone();
        next.version = 2;
        next.effective_from_ms = DAY;
        next.per_completion_cents += 1_000;
        b.versions.push(next);
    });
    let resp = net.exchange(&mut admin);
    assert!(
        resp.rejected.is_empty(),
        "a new valid version is accepted: {:?}",
        resp.rejected
    );
    let kept: BonusVersions = stored(&net, &DocId::Bonus);
    assert_eq!(kept.versions.len(), 2, "both versions stored");
}

#[test]
fn an_earlier_bonus_version_can_be_neither_altered_nor_dropped() {
    let (mut net, mut admin) = relay_with_references();
    edit(&mut admin, &DocId::Bonus, |b: &mut BonusVersions| {
        b.versions[0].per_completion_cents *= 10;
    });
    assert_refused::<BonusVersions>(
        &mut net,
        &mut admin,
        &DocId::Bonus,
        Code::BonusVersionRewritten,
    );

    let (mut net, mut admin) = relay_with_references();
    edit(&mut admin, &DocId::Bonus, |b: &mut BonusVersions| {
        let mut next = b.versions[0].clone();
        next.version = 2;
        b.versions = vec![next];
    });
    assert_refused::<BonusVersions>(
        &mut net,
        &mut admin,
        &DocId::Bonus,
        Code::BonusVersionRewritten,
    );
}

#[test]
fn every_bonus_version_must_pass_the_formulas_validation() {
    let (mut net, mut admin) = relay_with_references();
    edit(&mut admin, &DocId::Bonus, |b: &mut BonusVersions| {
        let mut next = b.versions[0].clone();
        next.version = 2;
        next.cap_cents = next.floor_cents - 1;
        b.versions.push(next);
    });
    assert_refused::<BonusVersions>(
        &mut net,
        &mut admin,
        &DocId::Bonus,
        Code::BonusCapBelowFloor,
    );

    let (mut net, mut admin) = relay_with_references();
    edit(&mut admin, &DocId::Bonus, |b: &mut BonusVersions| {
        let mut next = b.versions[0].clone();
        next.version = 2;
        next.terms[0].figure = "fees_collected_cents".to_owned();
        b.versions.push(next);
    });
    assert_refused::<BonusVersions>(
        &mut net,
        &mut admin,
        &DocId::Bonus,
        Code::BonusFigureNotAllowed,
    );
}

#[test]
fn a_first_upload_of_a_forged_bonus_formula_is_refused() {
    let mut net = Network::in_memory();
    let mut admin = SimDevice::new("root", Role::Admin);
    let mut formula = seed::bonus_formula(DAY);
    formula.per_completion_cents = -1;
    admin.put(
        DocId::Bonus,
        &BonusVersions {
            schema: onsite_domain::bonus::SCHEMA,
            versions: vec![formula],
        },
    );
    let resp = net.exchange(&mut admin);
    assert_eq!(
        refusal(&resp, &DocId::Bonus),
        Some(Code::BonusNegativeAmount),
        "{:?}",
        resp.rejected
    );
    assert!(
        net.relay.doc_bytes(&DocId::Bonus).is_none(),
        "nothing of it is stored"
    );
}

#[test]
fn forged_service_settings_are_refused_with_their_code() {
    let (mut net, mut admin) = relay_with_references();
    edit(
        &mut admin,
        &DocId::ServiceSettings,
        |s: &mut ServiceSettings| {
            s.follow_up_within_hours = 0;
        },
    );
    assert_refused::<ServiceSettings>(
        &mut net,
        &mut admin,
        &DocId::ServiceSettings,
        Code::ServiceBadHours,
    );
}

#[test]
fn dispatchers_read_the_bonus_formula_and_service_settings_but_may_not_write_them() {
    let (mut net, _admin) = relay_with_references();
    let mut disp = SimDevice::new("disp", Role::Dispatcher);
    net.sync_until_quiet(&mut disp);
    let bonus: BonusVersions = disp.read(&DocId::Bonus);
    assert_eq!(bonus.versions.len(), 1, "a dispatcher reads ref:bonus");
    edit(&mut disp, &DocId::Bonus, |b: &mut BonusVersions| {
        let mut next = b.versions[0].clone();
        next.version = 2;
        next.effective_from_ms = DAY;
        b.versions.push(next);
    });
    assert_refused::<BonusVersions>(&mut net, &mut disp, &DocId::Bonus, Code::AccessReadOnly);

    let mut disp = SimDevice::new("disp", Role::Dispatcher);
    net.sync_until_quiet(&mut disp);
    edit(
        &mut disp,
        &DocId::ServiceSettings,
        |s: &mut ServiceSettings| {
            s.version += 1;
            s.follow_up_within_hours = 24;
        },
    );
    assert_refused::<ServiceSettings>(
        &mut net,
        &mut disp,
        &DocId::ServiceSettings,
        Code::AccessReadOnly,
    );
}
