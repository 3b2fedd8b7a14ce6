//! The relay's check of every incoming document change against the domain's rules
//! ([`onsite_domain::admit`]), on the document as it would be stored: it must read as its kind
//! and keep the size limits ([`shape`]; `ref:bonus` keeps every earlier version), and a visit must keep the rules of the technician's own
//! edits ([`visit`]: an append-only timeline in order, a frozen signed record, a signature only
//! on a complete record that hashes to it). A violation refuses the document whole with the
//! rule's code.

use std::sync::Arc;

use automerge::AutoCommit;
use onsite_domain::bonus::BonusVersions;
use onsite_domain::order::Order;
use onsite_domain::reference::TemplateLibrary;
use onsite_domain::visit::Visit;
use onsite_domain::{DocId, DomainError, admit, doc, templates};
use onsite_wire::DocRejection;

use crate::relay::DocStore;
use crate::views;

/// `after` reads as the kind `doc_id` names and keeps the size limits (for `ref:bonus` and
/// `ref:service`: their own validation). `bonus_before` is `ref:bonus` as stored, when it is the
/// document: its versions must all be kept, unchanged ([`admit::bonus`]).
pub fn shape(
    doc_id: &DocId,
    after: &AutoCommit,
    bonus_before: Option<&BonusVersions>,
) -> Result<(), DocRejection> {
    let checked = admit::shape(doc_id, after).and_then(|()| match bonus_before {
        Some(before) => admit::bonus(Some(before), &doc::read(after)?),
        None => Ok(()),
    });
    checked.map_err(|e| refusal(doc_id, &e))
}

/// What a visit is checked against when the request itself carries it; otherwise the relay's
/// stored copies are used (the built-in templates when it holds none).
#[derive(Debug, Default)]
pub struct VisitContext {
    pub order: Option<Arc<Order>>,
    pub library: Option<Arc<TemplateLibrary>>,
}

/// `after` read as a visit that keeps the size limits: read once per incoming visit, it serves
/// the shape check, the visit rules ([`visit`]) and the facts the relay derives at commit.
pub fn visit_shape(doc_id: &DocId, after: &AutoCommit) -> Result<Visit, DocRejection> {
    doc::read::<Visit>(after)
        .and_then(|v| admit::visit_sizes(&v).map(|()| v))
        .map_err(|e| refusal(doc_id, &e))
}

/// The domain's visit rules for `after`, the visit `doc_id` would become, given the visit as
/// stored (`before`, `None` when new). The inner `Err` is the refusal to answer.
pub fn visit<S: DocStore>(
    store: &mut S,
    doc_id: &DocId,
    before: Option<&Visit>,
    after: &Visit,
    context: VisitContext,
) -> Result<Result<(), DocRejection>, S::Error> {
    let DocId::Visit { order_id, .. } = doc_id else {
        return Ok(Ok(()));
    };
    let order = match context.order {
        Some(o) => Some(o),
        None => views::stored::<S, Order>(store, &DocId::Order(order_id.clone()))?,
    };
    let Some(order) = order else {
        let e = DomainError::Hydrate(format!(
            "the visit's order '{order_id}' is not on the relay"
        ));
        return Ok(Err(refusal(doc_id, &e)));
    };
    let library = match context.library {
        Some(l) => l,
        None => stored_library(store)?,
    };
    Ok(admit::visit(before, after, &order, &library).map_err(|e| refusal(doc_id, &e)))
}

/// The template library as stored, or the built-in one when the relay holds none.
pub fn stored_library<S: DocStore>(store: &mut S) -> Result<Arc<TemplateLibrary>, S::Error> {
    Ok(
        views::stored::<S, TemplateLibrary>(store, &DocId::Templates)?
            .unwrap_or_else(|| Arc::new(templates::builtin_library())),
    )
}

fn refusal(doc_id: &DocId, e: &DomainError) -> DocRejection {
    DocRejection {
        doc: doc_id.clone(),
        code: e.code(),
        message: format!("{e}; nothing of '{doc_id}' was stored"),
    }
}

/// A stored document read as `T`; `None` when absent or unreadable.
pub(crate) fn stored<S: DocStore, T: autosurgeon::Hydrate>(
    store: &mut S,
    id: &DocId,
) -> Result<Option<T>, S::Error> {
    Ok(store
        .load(id)?
        .and_then(|s| doc::load(&s.bytes).ok())
        .and_then(|d| doc::read::<T>(&d).ok()))
}
