//! Per-document access control as pure functions of (role, user id, service centre, document
//! id, the document's centre, the order's current and former assignees). The relay enforces
//! these; a device may use them to hide actions the relay would refuse.
//!
//! Tenancy: a company has service centres. Every user belongs to one; every document but the
//! company-wide reference documents (templates, fees, parts, the bonus formula, the service
//! settings — [`company_wide`]) belongs to one, recorded by the relay when it is first stored
//! ([`centre_of_new`]) and never changed. Dispatchers and technicians never read or write another
//! centre's documents; admins are the company's and read and write everything, in every centre.
//!
//! - technician: reads orders currently assigned to them; reads and writes their own visits
//!   (`visit:<order>:<self>`, writable while they are or were assigned to the order, so work done
//!   offline before a reassignment still uploads); reads their own ledger and profile; reads
//!   reference documents but the bonus formula (`ref:bonus`). Households are not theirs to read: an order carries a copy of its
//!   customer and appliances.
//! - dispatcher: reads and writes their centre's orders, ledgers, profiles and registry
//!   (`household:<id>`); reads their centre's visits and the company-wide reference documents,
//!   which only admins change (one centre's dispatcher must not change what every centre
//!   works from).
//! - admin: reads and writes everything.
//!
//! A document a user may not read does not exist for them.

use onsite_domain::DocId;
use onsite_domain::order::Order;
use onsite_wire::Role;

/// What a user may do with one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Not even its existence is revealed.
    None,
    Read,
    ReadWrite,
}

impl Access {
    pub fn can_read(self) -> bool {
        self >= Access::Read
    }
    pub fn can_write(self) -> bool {
        self == Access::ReadWrite
    }
}

/// The signed-in user a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    /// The service centre the user belongs to.
    pub centre: String,
}

/// Whether `doc` is one of the company-wide reference documents every centre works from; every
/// other document belongs to one centre.
pub fn company_wide(doc: &DocId) -> bool {
    matches!(
        doc,
        DocId::Templates
            | DocId::FeeSchedule
            | DocId::PartsCatalogue
            | DocId::Bonus
            | DocId::ServiceSettings
    )
}

/// The centre a document gets when it is first stored (`None`: company-wide): a visit its
/// order's (`order_centre`), a technician's profile and ledger the technician's
/// (`technician_centre`, when the relay knows the technician), anything else the centre of the
/// user who creates it.
pub fn centre_of_new(
    doc: &DocId,
    creator: &Principal,
    order_centre: Option<&str>,
    technician_centre: Option<&str>,
) -> Option<String> {
    let own = Some(creator.centre.clone());
    match doc {
        d if company_wide(d) => None,
        DocId::Visit { .. } => order_centre.map(str::to_owned).or(own),
        DocId::Profile(_) | DocId::Ledger(_) => technician_centre.map(str::to_owned).or(own),
        _ => own,
    }
}

/// What access control needs to know about an order (read from the stored order document).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderFacts {
    pub order_no: String,
    pub assignee: Option<String>,
    /// Everyone the order was ever assigned to, the current assignee included.
    pub assignees_ever: Vec<String>,
}

impl OrderFacts {
    pub fn of(order: &Order) -> Self {
        let mut ever: Vec<String> = order.transfers.iter().map(|t| t.to.clone()).collect();
        if let Some(a) = &order.assignee {
            ever.push(a.clone());
        }
        ever.sort();
        ever.dedup();
        OrderFacts {
            order_no: order.order_no.clone(),
            assignee: order.assignee.clone(),
            assignees_ever: ever,
        }
    }
}

/// The order a document's access depends on: the order itself or the visit's order.
pub fn governing_order(doc: &DocId) -> Option<&str> {
    match doc {
        DocId::Order(id) => Some(id),
        DocId::Visit { order_id, .. } => Some(order_id),
        _ => None,
    }
}

/// What `who` may do with `doc`. `order` are the facts of [`governing_order`]`(doc)` as stored on
/// the relay (`None` when that order does not exist); `centre` is the centre `doc` belongs to
/// (as stored, or [`centre_of_new`] for a document not stored yet; ignored for a
/// [`company_wide`] one). A centre's document without a centre is nobody's but the admins'.
pub fn access(
    who: &Principal,
    doc: &DocId,
    order: Option<&OrderFacts>,
    centre: Option<&str>,
) -> Access {
    if who.role != Role::Admin && !company_wide(doc) && centre != Some(who.centre.as_str()) {
        return Access::None;
    }
    role_access(who, doc, order)
}

/// [`access`] within the user's own centre (or on a company-wide document).
fn role_access(who: &Principal, doc: &DocId, order: Option<&OrderFacts>) -> Access {
    let me = who.user_id.as_str();
    match who.role {
        Role::Admin => Access::ReadWrite,
        Role::Dispatcher => match doc {
            DocId::Visit { .. } => Access::Read,
            // stats, followups, tenancy: the company-wide reference documents — what every
            // centre pays, charges and follows up with — are the admins' to set.
            d if company_wide(d) => Access::Read,
            _ => Access::ReadWrite,
        },
        Role::Technician => match doc {
            DocId::Order(_) => {
                if order.is_some_and(|o| o.assignee.as_deref() == Some(me)) {
                    Access::Read
                } else {
                    Access::None
                }
            }
            DocId::Visit { technician_id, .. } if technician_id == me => {
                if order.is_some_and(|o| o.assignees_ever.iter().any(|a| a == me)) {
                    Access::ReadWrite
                } else {
                    Access::Read
                }
            }
            DocId::Visit { .. } => Access::None,
            DocId::Templates | DocId::FeeSchedule | DocId::PartsCatalogue => Access::Read,
            DocId::Profile(t) | DocId::Ledger(t) if t == me => Access::Read,
            DocId::Profile(_) | DocId::Ledger(_) => Access::None,
            // registry: the order carries the customer and appliances the technician needs.
            DocId::Household(_) => Access::None,
            // followups: the centre's service settings (follow-up times, maintenance
            // intervals) are the dispatchers' business; a technician's device has no use for them.
            DocId::ServiceSettings => Access::None,
            // stats: what the centre pays is the dispatchers' and admins' business.
            DocId::Bonus => Access::None,
        },
    }
}

/// The technicians who may read a document: a technician's changes feed lists only documents
/// whose readers include them (dispatchers and admins read everything and need no list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readers {
    /// Every technician (the reference documents they work from).
    AllTechnicians,
    /// These technicians only (none for the registry, the bonus formula, the settings).
    Technicians(Vec<String>),
}

/// Who of the technicians may read `doc` given its governing order's `order` facts, decided by
/// [`access`] itself: asked for an arbitrary technician (then all may), else for each technician
/// the document or its order names — the only ones it could answer yes for. Technicians are
/// asked as members of the document's own centre; a technician of another centre is listed in
/// no feed but a company-wide document's (and the feed answer checks access again anyway).
pub fn technician_readers(doc: &DocId, order: Option<&OrderFacts>) -> Readers {
    let reads = |id: &str| {
        let who = Principal {
            user_id: id.to_owned(),
            role: Role::Technician,
            centre: String::new(),
        };
        role_access(&who, doc, order).can_read()
    };
    if reads("") {
        return Readers::AllTechnicians;
    }
    let mut named: Vec<String> = order
        .map(|o| {
            o.assignees_ever
                .iter()
                .chain(&o.assignee)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    match doc {
        DocId::Visit { technician_id, .. } => named.push(technician_id.clone()),
        DocId::Profile(t) | DocId::Ledger(t) => named.push(t.clone()),
        _ => {}
    }
    named.sort();
    named.dedup();
    named.retain(|t| reads(t));
    Readers::Technicians(named)
}

/// Who gains and who loses read access to an order when its facts change from `before` to
/// `after`: `(user id, granted)` pairs. Only technicians' access depends on order facts.
pub fn order_access_changes(
    before: Option<&OrderFacts>,
    after: &OrderFacts,
) -> Vec<(String, bool)> {
    let old = before.and_then(|b| b.assignee.clone());
    let new = after.assignee.clone();
    if old == new {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(o) = old {
        out.push((o, false));
    }
    if let Some(n) = new {
        out.push((n, true));
    }
    out
}

/// Whether `who` may fetch an attachment (photo, signature image) uploaded by `uploaders`, who
/// belong to `uploader_centres`: dispatchers review every record of their centre, admins every
/// record; a technician reads back what they uploaded.
pub fn may_read_attachment(
    who: &Principal,
    uploaders: &[String],
    uploader_centres: &[String],
) -> bool {
    match who.role {
        Role::Admin => true,
        Role::Dispatcher => uploader_centres.contains(&who.centre),
        Role::Technician => uploaders.contains(&who.user_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The centre every user and document of the single-centre tests belongs to.
    const CENTRE: &str = "qd";

    fn who(id: &str, role: Role) -> Principal {
        Principal {
            user_id: id.into(),
            role,
            centre: CENTRE.into(),
        }
    }

    /// [`super::access`] on a document of the users' own centre.
    fn access(who: &Principal, doc: &DocId, order: Option<&OrderFacts>) -> Access {
        super::access(who, doc, order, Some(CENTRE))
    }

    fn facts(assignee: Option<&str>, ever: &[&str]) -> OrderFacts {
        OrderFacts {
            order_no: "WO-1".into(),
            assignee: assignee.map(str::to_owned),
            assignees_ever: ever.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_technician_is_among_a_documents_readers_exactly_when_they_may_read_it() {
        let techs = ["tech.a", "tech.b", "tech.c"];
        let docs = [
            DocId::Order("o-1".into()),
            DocId::visit("o-1", "tech.a"),
            DocId::visit("o-1", "tech.c"),
            DocId::Profile("tech.b".into()),
            DocId::Ledger("tech.a".into()),
            DocId::Household("h-1".into()),
            DocId::Templates,
            DocId::FeeSchedule,
            DocId::PartsCatalogue,
            DocId::Bonus,
            DocId::ServiceSettings,
        ];
        let all_facts = [
            None,
            Some(facts(None, &[])),
            Some(facts(Some("tech.a"), &["tech.a"])),
            Some(facts(Some("tech.b"), &["tech.a", "tech.b"])),
            Some(facts(None, &["tech.c"])),
        ];
        for doc in &docs {
            for f in &all_facts {
                let readers = technician_readers(doc, f.as_ref());
                for t in techs {
                    let may = access(&who(t, Role::Technician), doc, f.as_ref()).can_read();
                    let listed = match &readers {
                        Readers::AllTechnicians => true,
                        Readers::Technicians(ts) => ts.iter().any(|x| x == t),
                    };
                    assert_eq!(
                        listed, may,
                        "{t} on {doc} with {f:?}: the feed must list a document for exactly the technicians who may read it ({readers:?})"
                    );
                }
            }
        }
    }

    #[test]
    fn technician_reads_only_orders_currently_assigned_to_them() {
        let a = who("tech.a", Role::Technician);
        let order = DocId::Order("o-1".into());
        let f = facts(Some("tech.a"), &["tech.a"]);
        assert_eq!(access(&a, &order, Some(&f)), Access::Read);
        let moved = facts(Some("tech.b"), &["tech.a", "tech.b"]);
        assert_eq!(
            access(&a, &order, Some(&moved)),
            Access::None,
            "reassigned away: no access"
        );
        assert_eq!(
            access(&a, &order, None),
            Access::None,
            "missing order is unreadable"
        );
    }

    #[test]
    fn technician_writes_own_visit_while_or_after_assigned_and_never_others() {
        let a = who("tech.a", Role::Technician);
        let own = DocId::visit("o-1", "tech.a");
        let other = DocId::visit("o-1", "tech.b");
        let moved = facts(Some("tech.b"), &["tech.a", "tech.b"]);
        assert_eq!(access(&a, &own, Some(&moved)), Access::ReadWrite);
        assert_eq!(access(&a, &other, Some(&moved)), Access::None);
        let never = facts(Some("tech.b"), &["tech.b"]);
        assert_eq!(
            access(&a, &own, Some(&never)),
            Access::Read,
            "cannot create visits on orders never assigned to them"
        );
        assert_eq!(access(&a, &own, None), Access::Read);
    }

    #[test]
    fn technician_reads_reference_and_own_ledger_and_profile_only() {
        let a = who("tech.a", Role::Technician);
        for d in [DocId::Templates, DocId::FeeSchedule, DocId::PartsCatalogue] {
            assert_eq!(access(&a, &d, None), Access::Read);
        }
        assert_eq!(
            access(&a, &DocId::Ledger("tech.a".into()), None),
            Access::Read
        );
        assert_eq!(
            access(&a, &DocId::Profile("tech.a".into()), None),
            Access::Read
        );
        assert_eq!(
            access(&a, &DocId::Ledger("tech.b".into()), None),
            Access::None
        );
        assert_eq!(
            access(&a, &DocId::Profile("tech.b".into()), None),
            Access::None
        );
        assert_eq!(
            access(&a, &DocId::ServiceSettings, None),
            Access::None,
            "the service settings are the dispatchers' (follow-ups, reminders)"
        );
    }

    #[test]
    fn dispatcher_reads_visits_and_writes_the_rest_admin_everything() {
        let d = who("disp", Role::Dispatcher);
        let adm = who("root", Role::Admin);
        let v = DocId::visit("o-1", "tech.a");
        assert_eq!(access(&d, &v, None), Access::Read);
        assert_eq!(access(&adm, &v, None), Access::ReadWrite);
        for doc in [
            DocId::Order("o-1".into()),
            DocId::Ledger("tech.a".into()),
            DocId::Profile("tech.a".into()),
        ] {
            assert_eq!(access(&d, &doc, None), Access::ReadWrite, "{doc}");
        }
        for doc in [DocId::Templates, DocId::FeeSchedule, DocId::PartsCatalogue] {
            assert_eq!(
                access(&d, &doc, None),
                Access::Read,
                "{doc} is company-wide: one centre's dispatcher must not change what every centre works from"
            );
            assert_eq!(access(&adm, &doc, None), Access::ReadWrite, "{doc}");
        }
    }

    // tenancy:
    #[test]
    fn nobody_but_an_admin_reaches_another_centres_documents() {
        let f = facts(Some("tech.a"), &["tech.a"]);
        let docs = [
            DocId::Order("o-1".into()),
            DocId::visit("o-1", "tech.a"),
            DocId::Household("hh-1".into()),
            DocId::Profile("tech.a".into()),
            DocId::Ledger("tech.a".into()),
        ];
        for doc in &docs {
            for role in [Role::Dispatcher, Role::Technician] {
                let other = Principal {
                    centre: "sh".into(),
                    ..who("tech.a", role)
                };
                assert_eq!(
                    super::access(&other, doc, Some(&f), Some(CENTRE)),
                    Access::None,
                    "a {role:?} of centre sh on {doc} of centre {CENTRE}, even as its assignee"
                );
            }
            assert_eq!(
                super::access(&who("disp", Role::Dispatcher), doc, Some(&f), None),
                Access::None,
                "{doc} stored without a centre is nobody's but the admins'"
            );
            let admin = Principal {
                centre: "sh".into(),
                ..who("root", Role::Admin)
            };
            assert_eq!(
                super::access(&admin, doc, Some(&f), Some(CENTRE)),
                Access::ReadWrite,
                "the company's admin reads and writes {doc} in every centre"
            );
        }
        let sh_tech = Principal {
            centre: "sh".into(),
            ..who("tech.z", Role::Technician)
        };
        assert_eq!(
            super::access(&sh_tech, &DocId::Templates, None, None),
            Access::Read,
            "the company-wide templates are every centre's"
        );
    }

    #[test]
    fn a_new_document_takes_its_order_s_technician_s_or_creator_s_centre() {
        let disp = who("disp", Role::Dispatcher);
        let new = |doc: DocId| centre_of_new(&doc, &disp, Some("sh"), Some("bj"));
        assert_eq!(new(DocId::Templates), None, "company-wide");
        assert_eq!(new(DocId::Bonus), None, "company-wide");
        assert_eq!(new(DocId::visit("o-1", "t")).as_deref(), Some("sh"));
        assert_eq!(new(DocId::Profile("t".into())).as_deref(), Some("bj"));
        assert_eq!(new(DocId::Ledger("t".into())).as_deref(), Some("bj"));
        assert_eq!(new(DocId::Order("o-2".into())).as_deref(), Some(CENTRE));
        assert_eq!(new(DocId::Household("h".into())).as_deref(), Some(CENTRE));
        assert_eq!(
            centre_of_new(&DocId::Profile("t".into()), &disp, None, None).as_deref(),
            Some(CENTRE),
            "a technician the relay does not know yet: the creator's centre"
        );
    }

    #[test]
    fn dispatchers_read_attachments_of_their_centre_technicians_their_own() {
        let d = who("disp", Role::Dispatcher);
        let t = who("tech.a", Role::Technician);
        let up = |u: &str| vec![u.to_owned()];
        assert!(may_read_attachment(&d, &up("tech.a"), &up(CENTRE)));
        assert!(
            !may_read_attachment(&d, &up("tech.z"), &up("sh")),
            "another centre's photo"
        );
        assert!(may_read_attachment(&t, &up("tech.a"), &up(CENTRE)));
        assert!(
            !may_read_attachment(&t, &up("tech.b"), &up(CENTRE)),
            "a colleague's photo"
        );
        let admin = who("root", Role::Admin);
        assert!(may_read_attachment(&admin, &up("tech.z"), &up("sh")));
    }

    // registry:
    #[test]
    fn the_registry_is_the_dispatchers_and_no_technicians() {
        let hh = DocId::Household("hh-1".into());
        for (user, role, want) in [
            ("disp", Role::Dispatcher, Access::ReadWrite),
            ("root", Role::Admin, Access::ReadWrite),
            ("tech.a", Role::Technician, Access::None),
        ] {
            let f = facts(Some("tech.a"), &["tech.a"]);
            assert_eq!(
                access(&who(user, role), &hh, Some(&f)),
                want,
                "{role:?} on a household, even one of their own orders"
            );
        }
        assert_eq!(governing_order(&hh), None, "no order governs a household");
    }

    // stats, followups:
    #[test]
    fn admins_write_the_bonus_formula_and_service_settings_dispatchers_read_them() {
        for doc in [DocId::Bonus, DocId::ServiceSettings] {
            for (user, role, want, why) in [
                (
                    "disp",
                    Role::Dispatcher,
                    Access::Read,
                    "they work with them but only admins change them",
                ),
                ("root", Role::Admin, Access::ReadWrite, "admins set them"),
                (
                    "tech.a",
                    Role::Technician,
                    Access::None,
                    "what others are paid and the follow-up rules are not a technician's",
                ),
            ] {
                assert_eq!(
                    access(&who(user, role), &doc, None),
                    want,
                    "{role:?} on {doc}: {why}"
                );
            }
        }
    }

    #[test]
    fn reassignment_revokes_previous_and_grants_new() {
        let before = facts(Some("tech.a"), &["tech.a"]);
        let after = facts(Some("tech.b"), &["tech.a", "tech.b"]);
        assert_eq!(
            order_access_changes(Some(&before), &after),
            vec![("tech.a".to_string(), false), ("tech.b".to_string(), true)]
        );
        assert!(order_access_changes(Some(&after), &after).is_empty());
        assert_eq!(
            order_access_changes(None, &after),
            vec![("tech.b".to_string(), true)]
        );
    }
}
