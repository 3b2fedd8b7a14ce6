//! A partial replica's first sync (issue 14): instead of replaying the whole change log from
//! cursor 0 — every job the centre ever had — the relay lists the documents a device with a
//! history window holds ([`DocStore::window_docs`]: every document outside jobs, and the jobs
//! [`retention::held`] at the window's cutoff) and sends them whole, page by page, in document-id
//! order. The position between pages is `<head>/<last document id>` ([`Position`]): the feed head
//! when the snapshot started and where the listing stopped. The last page answers the feed
//! cursor `head`, and the ordinary feed goes on from there, so a document changed while the
//! snapshot was read arrives again through the feed (Automerge keeps each change once).
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

/// Where a snapshot is: the feed head it was taken at and the last document listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub head: u64,
    pub after: Option<String>,
}

impl Position {
    /// The text form sent to the device (`SyncResponse::snapshot`).
    pub fn encode(&self) -> String {
        format!("{}/{}", self.head, self.after.as_deref().unwrap_or(""))
    }

    /// Read a position a device sent back; refused when it is not one this relay could have
    /// given: unparseable, or taken at a head beyond today's feed.
    pub fn decode(text: &str, head_now: u64) -> Result<Position, SyncError> {
        let bad = || SyncError::BadSnapshot(text.chars().take(80).collect());
        let (head, after) = text.split_once('/').ok_or_else(bad)?;
        let head: u64 = head.parse().map_err(|_| bad())?;
        if head > head_now {
            return Err(bad());
        }
        let after = match after {
            "" => None,
            id => Some(id.parse::<DocId>().map_err(|_| bad())?.to_string()),
        };
        Ok(Position { head, after })
    }
}

/// The window a request's snapshot uses: a staff member's first sync with a window.
pub fn windowed(req: &SyncRequest, who: &Principal) -> Option<u32> {
    (req.cursor == 0 && who.role != Role::Technician)
        .then_some(req.window_days)
        .flatten()
}

/// One page of a snapshot: the plan (every document sent whole, no grants or revocations) and
/// the position to send back (`None` on the last page, whose cursor is the snapshot's head).
pub struct Page {
    pub plan: FeedPlan,
    pub position: Option<String>,
}

/// The next page of the snapshot of `who`'s documents with `window_days` of history, from
/// `position` (`None`: a new snapshot at `head`). Documents the request itself answered
/// (`mentioned`) and those `who` may not read are skipped. With `count`, a page that is not the
/// last counts the documents left ([`DocStore::window_count`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn page<S: DocStore>(
    store: &mut S,
    lookups: &mut Lookups,
    who: &Principal,
    window_days: u32,
    position: Option<&str>,
    head: u64,
    mentioned: &BTreeSet<DocId>,
    limits: &Limits,
    now_ms: i64,
    count: bool,
) -> Result<Page, HandleError<S::Error>> {
    let mut pos = match position {
        None => Position { head, after: None },
        Some(text) => Position::decode(text, head)?,
    };
    let centre = (who.role != Role::Admin).then_some(who.centre.as_str());
    let cutoff = retention::cutoff(now_ms, window_days);
    let mut sends = Vec::new();
    loop {
        // As many as the page still takes: the next page lists from the last one sent, so
        // listing more would read them twice.
        let want = limits
            .max_docs_per_response
            .saturating_sub(sends.len())
            .max(1);
        let listed = store
            .window_docs(centre, cutoff, pos.after.as_deref(), want)
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
                    true => store
                        .window_count(centre, cutoff, pos.after.as_deref())
                        .map_err(HandleError::Storage)?,
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
            break;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_round_trips_and_a_forged_one_is_refused_with_a_code() {
        let p = Position {
            head: 42,
            after: Some("visit:o-1:tech.a".into()),
        };
        assert_eq!(Position::decode(&p.encode(), 42).unwrap(), p);
        let start = Position {
            head: 7,
            after: None,
        };
        assert_eq!(Position::decode(&start.encode(), 9).unwrap(), start);
        for forged in ["", "x/order:o-1", "43/order:o-1", "5/not a doc", "5"] {
            let err = Position::decode(forged, 42).unwrap_err();
            assert_eq!(
                err.code(),
                onsite_domain::Code::SyncBadSnapshot,
                "'{forged}' is no position this relay gave"
            );
        }
    }

    #[test]
    fn only_a_staff_members_first_sync_with_a_window_reads_a_snapshot() {
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
            windowed(&req(0, Some(90)), &who(Role::Dispatcher)),
            Some(90)
        );
        assert_eq!(windowed(&req(0, Some(30)), &who(Role::Admin)), Some(30));
        assert_eq!(windowed(&req(5, Some(90)), &who(Role::Dispatcher)), None);
        assert_eq!(windowed(&req(0, None), &who(Role::Dispatcher)), None);
        assert_eq!(
            windowed(&req(0, Some(90)), &who(Role::Technician)),
            None,
            "a technician's feed already holds only their own jobs"
        );
    }
}
