//! A staff device's first sync (issue 14): instead of replaying the whole change log from
//! cursor 0 — every change of every job the centre ever had, which cost the relay a read of every
//! change still to send on every page (quadratic: at 1,000,000 jobs a page took 2 s of relay CPU
//! and gigabytes) — the relay lists the documents the device holds ([`DocStore::window_docs`]:
//! every document outside jobs, and the jobs [`retention::held`] at the window's cutoff; with no
//! window, every job) and sends them whole, page by page, kind by kind
//! in the order of [`PARTS`] — what a dispatcher needs to work first (the reference documents,
//! the technicians' profiles and ledgers), then the registry, then the jobs — and by document
//! id within a kind. The position between pages is `<head>/<part>/<last document id>`
//! ([`Position`]): the feed head when the snapshot started and where the listing stopped. The
//! last page answers the feed cursor `head`, and the ordinary feed goes on from there, so a
//! document changed while the snapshot was read arrives again through the feed (Automerge keeps
//! each change once).
//!
//! Only staff devices read a snapshot: a technician's feed holds their own jobs and nothing else.
//! Older jobs are fetched by id later (the history search, then a sync request asking for the
//! documents), and access is checked for every document sent, as in the feed.

use std::collections::BTreeSet;

use onsite_domain::{DocId, retention};
use onsite_wire::{Role, SyncRequest};

use crate::SyncError;
use crate::access::Principal;
use crate::relay::{DocStore, FeedPlan, FeedSend, HandleError, Limits, Lookups, Since, access_to};

/// Document ids strictly between `after` and `below` (text order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange<'a> {
    pub after: &'a str,
    pub below: &'a str,
}

impl KeyRange<'_> {
    /// Whether the text id `id` lies in the range.
    pub fn holds(&self, id: &str) -> bool {
        id > self.after && id < self.below
    }
}

/// The kinds of documents in the order a snapshot sends them, each the key range of its ids
/// (`<kind>:` up to `<kind>;`, the next character): every kind of [`DocId`] is in one.
pub const PARTS: [KeyRange<'static>; 6] = [
    KeyRange {
        after: "ref:",
        below: "ref;",
    },
    KeyRange {
        after: "profile:",
        below: "profile;",
    },
    KeyRange {
        after: "ledger:",
        below: "ledger;",
    },
    KeyRange {
        after: "household:",
        below: "household;",
    },
    KeyRange {
        after: "order:",
        below: "order;",
    },
    KeyRange {
        after: "visit:",
        below: "visit;",
    },
];

/// Where a snapshot is: the feed head it was taken at, the part being listed and the last
/// document listed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub head: u64,
    /// Index into [`PARTS`].
    pub part: usize,
    pub after: Option<String>,
}

impl Position {
    /// The text form sent to the device (`SyncResponse::snapshot`).
    pub fn encode(&self) -> String {
        format!(
            "{}/{}/{}",
            self.head,
            self.part,
            self.after.as_deref().unwrap_or("")
        )
    }

    /// Read a position a device sent back; refused when it is not one this relay could have
    /// given: unparseable, taken at a head beyond today's feed, or naming a document outside
    /// its part. (A position of the earlier `<head>/<id>` form is refused too: the device then
    /// starts the snapshot again.)
    pub fn decode(text: &str, head_now: u64) -> Result<Position, SyncError> {
        let bad = || SyncError::BadSnapshot(text.chars().take(80).collect());
        let mut fields = text.splitn(3, '/');
        let (Some(head), Some(part), Some(after)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(bad());
        };
        let head: u64 = head.parse().map_err(|_| bad())?;
        let part: usize = part.parse().map_err(|_| bad())?;
        if head > head_now || part >= PARTS.len() {
            return Err(bad());
        }
        let after = match after {
            "" => None,
            id => {
                let id = id.parse::<DocId>().map_err(|_| bad())?.to_string();
                if !PARTS[part].holds(&id) {
                    return Err(bad());
                }
                Some(id)
            }
        };
        Ok(Position { head, part, after })
    }

    /// What is left to list of the current part.
    fn range(&self) -> KeyRange<'_> {
        KeyRange {
            after: self.after.as_deref().unwrap_or(PARTS[self.part].after),
            below: PARTS[self.part].below,
        }
    }
}

/// How much history a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The open jobs and those active in the last so many days.
    Days(u32),
    /// Every job.
    Whole,
}

impl Window {
    /// The cutoff of [`retention::held`] at `now_ms`.
    pub fn cutoff(self, now_ms: i64) -> i64 {
        match self {
            Window::Days(days) => retention::cutoff(now_ms, days),
            Window::Whole => i64::MIN,
        }
    }
}

/// The snapshot a request reads: a staff member's first sync, with their window or (none asked)
/// the whole history.
pub fn first_sync(req: &SyncRequest, who: &Principal) -> Option<Window> {
    (req.cursor == 0 && who.role != Role::Technician)
        .then(|| req.window_days.map_or(Window::Whole, Window::Days))
}

/// One page of a snapshot: the plan (every document sent whole, no grants or revocations) and
/// the position to send back (`None` on the last page, whose cursor is the snapshot's head).
pub struct Page {
    pub plan: FeedPlan,
    pub position: Option<String>,
}

/// The next page of the snapshot of `who`'s documents with `window` of history, from
/// `position` (`None`: a new snapshot at `head`). Documents the request itself answered
/// (`mentioned`) and those `who` may not read are skipped. With `count`, a page that is not the
/// last counts the documents left ([`DocStore::window_count`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn page<S: DocStore>(
    store: &mut S,
    lookups: &mut Lookups,
    who: &Principal,
    window: Window,
    position: Option<&str>,
    head: u64,
    mentioned: &BTreeSet<DocId>,
    limits: &Limits,
    now_ms: i64,
    count: bool,
) -> Result<Page, HandleError<S::Error>> {
    let mut pos = match position {
        None => Position {
            head,
            part: 0,
            after: None,
        },
        Some(text) => Position::decode(text, head)?,
    };
    let centre = (who.role != Role::Admin).then_some(who.centre.as_str());
    let cutoff = window.cutoff(now_ms);
    let mut sends = Vec::new();
    while pos.part < PARTS.len() {
        // As many as the page still takes: the next page lists from the last one sent, so
        // listing more would read them twice.
        let want = limits
            .max_docs_per_response
            .saturating_sub(sends.len())
            .max(1);
        let listed = store
            .window_docs(centre, cutoff, pos.range(), want)
            .map_err(HandleError::Storage)?;
        let exhausted = listed.len() < want;
        for doc in listed {
            pos.after = Some(doc.to_string());
            if mentioned.contains(&doc) {
                continue;
            }
            let readable = access_to(store, lookups, who, &doc)
                .map_err(HandleError::Storage)?
                .can_read();
            if readable {
                sends.push(FeedSend {
                    doc,
                    since: Since::Start,
                });
            }
            if sends.len() == limits.max_docs_per_response {
                let remaining = match count {
                    true => remaining(store, centre, cutoff, &pos)?,
                    false => 0,
                };
                return Ok(Page {
                    plan: FeedPlan {
                        sends,
                        more: true,
                        remaining,
                        ..FeedPlan::default()
                    },
                    position: Some(pos.encode()),
                });
            }
        }
        if exhausted {
            pos.part += 1;
            pos.after = None;
        }
    }
    Ok(Page {
        plan: FeedPlan {
            sends,
            cursor: pos.head,
            more: head > pos.head,
            ..FeedPlan::default()
        },
        position: None,
    })
}

/// The documents left after `pos`: the rest of its part and every later part.
fn remaining<S: DocStore>(
    store: &mut S,
    centre: Option<&str>,
    cutoff: i64,
    pos: &Position,
) -> Result<u64, HandleError<S::Error>> {
    let mut n = store
        .window_count(centre, cutoff, pos.range())
        .map_err(HandleError::Storage)?;
    for part in &PARTS[pos.part + 1..] {
        n += store
            .window_count(centre, cutoff, *part)
            .map_err(HandleError::Storage)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_document_is_in_exactly_one_part() {
        let every_kind = [
            DocId::Order("o-1".into()),
            DocId::visit("o-1", "tech.a"),
            DocId::Templates,
            DocId::FeeSchedule,
            DocId::PartsCatalogue,
            DocId::ServiceSettings,
            DocId::Bonus,
            DocId::Profile("tech.a".into()),
            DocId::Ledger("tech.a".into()),
            DocId::Household("hh-1".into()),
        ];
        for id in every_kind {
            let text = id.to_string();
            let parts = PARTS.iter().filter(|p| p.holds(&text)).count();
            assert_eq!(
                parts, 1,
                "{text} must be sent by exactly one part of a snapshot"
            );
        }
    }

    #[test]
    fn a_position_round_trips_and_a_forged_one_is_refused_with_a_code() {
        let p = Position {
            head: 42,
            part: 5,
            after: Some("visit:o-1:tech.a".into()),
        };
        assert_eq!(Position::decode(&p.encode(), 42).unwrap(), p);
        let start = Position {
            head: 7,
            part: 0,
            after: None,
        };
        assert_eq!(Position::decode(&start.encode(), 9).unwrap(), start);
        let forgeries = [
            "",
            "x/4/order:o-1",
            "43/4/order:o-1",
            "5/4/not a doc",
            "5",
            "5/order:o-1",
            "5/9/",
            "5/0/order:o-1",
        ];
        for forged in forgeries {
            let err = Position::decode(forged, 42).unwrap_err();
            assert_eq!(
                err.code(),
                onsite_domain::Code::SyncBadSnapshot,
                "'{forged}' is no position this relay gave"
            );
        }
    }

    #[test]
    fn only_a_staff_members_first_sync_reads_a_snapshot_with_their_window_or_the_whole_history() {
        let who = |role| Principal {
            user_id: "u".into(),
            role,
            centre: "main".into(),
        };
        let req = |cursor, window_days| SyncRequest {
            cursor,
            window_days,
            ..SyncRequest::default()
        };
        assert_eq!(
            first_sync(&req(0, Some(90)), &who(Role::Dispatcher)),
            Some(Window::Days(90))
        );
        assert_eq!(
            first_sync(&req(0, Some(30)), &who(Role::Admin)),
            Some(Window::Days(30))
        );
        assert_eq!(
            first_sync(&req(0, None), &who(Role::Dispatcher)),
            Some(Window::Whole),
            "a device holding the whole history reads it as a snapshot, not change by change"
        );
        assert_eq!(first_sync(&req(5, Some(90)), &who(Role::Dispatcher)), None);
        assert_eq!(
            first_sync(&req(0, Some(90)), &who(Role::Technician)),
            None,
            "a technician's feed already holds only their own jobs"
        );
    }
}
