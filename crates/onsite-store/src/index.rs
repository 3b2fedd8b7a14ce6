//! Materialised index tables, rewritten from the documents inside the same transaction as every
//! document write. They are derived data: `Store::rebuild_indexes` recreates them from scratch.
//!
//! An order and its visits form one group: the order row (effective status, conflicts) depends
//! on every visit, and each visit row (record verification) depends on the order. Writing any
//! document of the group refreshes the whole group.

use std::sync::Arc;

use automerge::ActorId;
use onsite_domain::DocId;
use onsite_domain::ledger::StockLedger;
use onsite_domain::order::Order;
use onsite_domain::progress;
use onsite_domain::record::{self, Verification};
use onsite_domain::reference::{FeeSchedule, PartsCatalogue, TechnicianProfile, TemplateLibrary};
use onsite_domain::visit::Visit;
use onsite_domain::{retention, status};
use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StoreError;
use crate::cache::{DocCache, Loaded};

/// Text form of a unit enum in index columns: its serde name (`"Gold"`, `"on_site"`, …).
pub(crate) fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("index enum must serialise as a string, got {other:?}"),
    }
}

/// Parse an index column written by [`enum_text`].
pub(crate) fn parse_enum<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| StoreError::IndexCorrupt(format!("unknown value '{text}'")))
}

/// Hydrate `l` as the type its kind is read as, kept on `l` while its heads stay the same (the
/// index rows of orders, visits, ledgers and households are read from it; the other kinds are
/// only checked to hydrate, which refuses junk). The one place that says which type each kind is.
pub(crate) fn hydrate(id: &DocId, l: &mut Loaded) -> Result<(), StoreError> {
    match id {
        DocId::Order(_) => l.typed::<Order>().map(drop),
        DocId::Visit { .. } => l.typed::<Visit>().map(drop),
        DocId::Ledger(_) => l.typed::<StockLedger>().map(drop),
        DocId::Household(_) => l.typed::<onsite_domain::household::Household>().map(drop),
        DocId::Templates => l.typed::<TemplateLibrary>().map(drop),
        DocId::FeeSchedule => l.typed::<FeeSchedule>().map(drop),
        DocId::PartsCatalogue => l.typed::<PartsCatalogue>().map(drop),
        DocId::Profile(_) => l.typed::<TechnicianProfile>().map(drop),
        // followups:
        DocId::ServiceSettings => l
            .typed::<onsite_domain::service::ServiceSettings>()
            .map(drop),
        // stats:
        DocId::Bonus => l.typed::<onsite_domain::bonus::BonusVersions>().map(drop),
    }
}

/// Whether a document's own index rows may exist before they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// They may: delete them, then write them.
    Replace,
    /// The store did not hold the document before this write, so it has none: index rows exist
    /// only for stored documents (removing a document rewrites the rows depending on it in the
    /// same transaction, [`forget`]). A first sync writes thousands of new documents; the
    /// deletions that find nothing were a third of the statements of each.
    New,
}

/// Refresh the index rows that depend on document `id`, whose new state is `changed`.
pub(crate) fn refresh(
    conn: &Connection,
    cache: &mut DocCache,
    actor: &ActorId,
    id: &DocId,
    changed: &mut Loaded,
    rows: Rows,
) -> Result<(), StoreError> {
    hydrate(id, changed)?;
    match id {
        DocId::Order(order_id) | DocId::Visit { order_id, .. } => {
            refresh_group(conn, cache, actor, order_id, Some((id, changed)), rows).map(drop)
        }
        DocId::Ledger(technician_id) => {
            let ledger = changed.typed::<StockLedger>()?;
            refresh_ledger(conn, technician_id, Some(&ledger))
        }
        // registry:
        DocId::Household(household_id) => {
            let household = changed.typed::<onsite_domain::household::Household>()?;
            crate::registry::refresh_household(conn, household_id, Some(&household), rows)
        }
        // Reference documents have no index rows.
        DocId::Templates
        | DocId::FeeSchedule
        | DocId::PartsCatalogue
        | DocId::Profile(_)
        | DocId::ServiceSettings
        | DocId::Bonus => Ok(()),
    }
}

/// Remove the index rows of a document that is being removed.
pub(crate) fn forget(
    conn: &Connection,
    cache: &mut DocCache,
    actor: &ActorId,
    id: &DocId,
) -> Result<(), StoreError> {
    match id {
        DocId::Order(order_id) | DocId::Visit { order_id, .. } => {
            refresh_group(conn, cache, actor, order_id, None, Rows::Replace).map(drop)
        }
        DocId::Ledger(technician_id) => refresh_ledger(conn, technician_id, None),
        DocId::Templates | DocId::FeeSchedule | DocId::PartsCatalogue | DocId::Profile(_) => Ok(()),
        // followups:
        DocId::ServiceSettings => Ok(()),
        // stats:
        DocId::Bonus => Ok(()),
        // registry:
        DocId::Household(household_id) => {
            crate::registry::refresh_household(conn, household_id, None, Rows::Replace)
        }
    }
}

fn typed_from_cache<T>(
    conn: &Connection,
    cache: &mut DocCache,
    actor: &ActorId,
    key: &str,
) -> Result<Option<Arc<T>>, StoreError>
where
    T: autosurgeon::Hydrate + Send + Sync + 'static,
{
    match cache.get(conn, actor, key)? {
        Some(l) => Ok(Some(l.typed::<T>()?)),
        None => Ok(None),
    }
}

/// Whether `e` means a stored document cannot be read (damaged, or written by a newer app), as
/// opposed to the store itself failing.
pub(crate) fn unreadable(e: &StoreError) -> bool {
    matches!(e, StoreError::Corrupt { .. } | StoreError::Domain(_))
}

/// Rewrite the order row and every visit row of `order_id` from the documents as they are in
/// this transaction; `changed` is the document being written (not in the cache meanwhile), with
/// whether it is new to the store (`rows`).
///
/// The other documents of the group that cannot be read are left out of the index (reading them
/// still gives their error), so that one damaged visit never blocks edits to, or syncing of, the
/// order and its other visits. Returns how many were left out.
/// The stored visits of order `order_id` (their text ids, in order): a key range of `docs`.
pub(crate) fn visit_keys(conn: &Connection, order_id: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT doc_id FROM docs WHERE doc_id >= ?1 AND doc_id < ?2 ORDER BY doc_id",
    )?;
    let keys = stmt.query_map(
        params![format!("visit:{order_id}:"), format!("visit:{order_id};")],
        |r| r.get::<_, String>(0),
    )?;
    Ok(keys.collect::<Result<_, _>>()?)
}

pub(crate) fn refresh_group(
    conn: &Connection,
    cache: &mut DocCache,
    actor: &ActorId,
    order_id: &str,
    mut changed: Option<(&DocId, &mut Loaded)>,
    rows: Rows,
) -> Result<usize, StoreError> {
    // A new order's own rows are new; so are its visits' when none is stored.
    let order_rows = match changed {
        Some((DocId::Order(_), _)) => rows,
        _ => Rows::Replace,
    };
    let mut left_out = 0;
    let order_key = DocId::Order(order_id.to_owned()).to_string();
    let order: Option<Arc<Order>> = match &mut changed {
        Some((DocId::Order(_), l)) => Some(l.typed::<Order>()?),
        _ => match typed_from_cache::<Order>(conn, cache, actor, &order_key) {
            Err(e) if unreadable(&e) => {
                left_out += 1;
                None
            }
            other => other?,
        },
    };
    let visit_keys = visit_keys(conn, order_id)?;
    let visit_rows = match visit_keys.is_empty() {
        true => order_rows,
        false => Rows::Replace,
    };
    let mut visits: Vec<(String, Arc<Visit>)> = Vec::with_capacity(visit_keys.len());
    for key in visit_keys {
        let id: DocId = key.parse().map_err(|_| StoreError::Corrupt {
            doc_id: key.clone(),
            detail: "the row's document id is malformed".into(),
        })?;
        let DocId::Visit { technician_id, .. } = &id else {
            continue;
        };
        let visit = match &mut changed {
            Some((cid, l)) if **cid == id => l.typed::<Visit>()?,
            _ => match typed_from_cache::<Visit>(conn, cache, actor, &key) {
                Ok(Some(v)) => v,
                Ok(None) => return Err(StoreError::NotFound(key.clone())),
                Err(e) if unreadable(&e) => {
                    left_out += 1;
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        visits.push((technician_id.clone(), visit));
    }

    if visit_rows == Rows::Replace {
        for sql in [
            "DELETE FROM idx_visits WHERE order_id = ?1",
            "DELETE FROM idx_events WHERE order_id = ?1",
            "DELETE FROM idx_visit_parts WHERE order_id = ?1",
        ] {
            conn.prepare_cached(sql)?.execute(params![order_id])?;
        }
    }
    for (technician_id, v) in &visits {
        write_visit_rows(conn, order_id, technician_id, v, order.as_deref())?;
    }
    // registry: the imported order's external reference.
    crate::registry::refresh_order_ref(conn, order_id, order.as_deref(), order_rows)?;
    match order {
        Some(order) => write_order_row(conn, &order, visits.iter().map(|(_, v)| v.as_ref()))?,
        None => {
            conn.prepare_cached("DELETE FROM idx_orders WHERE order_id = ?1")?
                .execute(params![order_id])?;
        }
    }
    Ok(left_out)
}

fn write_visit_rows(
    conn: &Connection,
    order_id: &str,
    technician_id: &str,
    v: &Visit,
    order: Option<&Order>,
) -> Result<(), StoreError> {
    let stage = progress::current(&v.events).map(|k| enum_text(&k));
    let (verification, sections) = match (order, &v.signature) {
        (_, None) => ("unsigned", String::new()),
        (None, Some(_)) => ("order_missing", String::new()),
        (Some(o), Some(_)) => match record::verify(o, v) {
            Verification::Valid { .. } => ("valid", String::new()),
            Verification::ModifiedAfterSigning { sections, .. } => {
                ("modified_after_signing", sections.join(","))
            }
            Verification::Unsigned => ("unsigned", String::new()),
        },
    };
    conn.prepare_cached(
        "INSERT INTO idx_visits (order_id, technician_id, stage, signed_at_ms, record_hash,
                                 verification, modified_sections)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        order_id,
        technician_id,
        stage,
        v.signature.as_ref().map(|s| s.signed_at_ms),
        v.signature.as_ref().map(|s| s.record_hash.as_str()),
        verification,
        sections,
    ])?;
    let mut ev = conn.prepare_cached(
        "INSERT INTO idx_events (order_id, technician_id, pos, event_id, kind, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (pos, e) in v.events.iter().enumerate() {
        ev.execute(params![
            order_id,
            technician_id,
            pos as i64,
            e.id,
            enum_text(&e.kind),
            e.at_ms
        ])?;
    }
    let mut parts = conn.prepare_cached(
        "INSERT INTO idx_visit_parts (order_id, technician_id, pos, part_id, part_no, qty, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (pos, p) in v.parts.iter().enumerate() {
        parts.execute(params![
            order_id,
            technician_id,
            pos as i64,
            p.id,
            p.part_no,
            p.qty,
            enum_text(&p.source)
        ])?;
    }
    Ok(())
}

fn write_order_row<'a>(
    conn: &Connection,
    o: &Order,
    visits: impl IntoIterator<Item = &'a Visit> + Clone,
) -> Result<(), StoreError> {
    let job = retention::job(o, visits.clone());
    let derived = status::derive(o, visits);
    let conflicts = serde_json::to_string(&derived.conflicts)
        .map_err(|e| StoreError::IndexCorrupt(e.to_string()))?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO idx_orders (
            order_id, order_no, assignee, customer_name, customer_phone, customer_address,
            household_id, tier, service_type, problem, created_at_ms, schedule_start_ms,
            schedule_end_ms, respond_by_ms, arrive_by_ms, complete_by_ms, dispatch_status,
            effective_status, conflict_count, conflicts, settled, last_activity_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22)",
    )?
    .execute(params![
        o.order_id,
        o.order_no,
        o.assignee,
        o.customer.name,
        o.customer.phone,
        o.customer.address,
        o.customer.household_id,
        enum_text(&o.customer.tier),
        enum_text(&o.service_type),
        o.problem,
        o.created_at_ms,
        o.schedule.map(|w| w.start_ms),
        o.schedule.map(|w| w.end_ms),
        o.sla.respond_by_ms,
        o.sla.arrive_by_ms,
        o.sla.complete_by_ms,
        enum_text(&o.status),
        derived.status.as_str(),
        derived.conflicts.len() as i64,
        conflicts,
        job.settled,
        job.last_activity_ms,
    ])?;
    Ok(())
}

/// Rewrite the ledger rows of `technician_id` (none when `ledger` is `None`).
pub(crate) fn refresh_ledger(
    conn: &Connection,
    technician_id: &str,
    ledger: Option<&StockLedger>,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM idx_ledger WHERE technician_id = ?1")?
        .execute(params![technician_id])?;
    let Some(ledger) = ledger else {
        return Ok(());
    };
    let mut ins = conn.prepare_cached(
        "INSERT INTO idx_ledger (technician_id, pos, entry_id, part_no, kind, delta, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (pos, e) in ledger.entries.iter().enumerate() {
        ins.execute(params![
            technician_id,
            pos as i64,
            e.id,
            e.part_no,
            enum_text(&e.kind),
            e.delta,
            e.at_ms
        ])?;
    }
    Ok(())
}
