//! The relay's index of jobs for partial replicas (issue 14): one row per order with what the
//! history window needs ([`onsite_domain::retention::Job`]) and what a dispatcher searches the
//! history by (order number, customer phone and name, household). Kept by both backends in the
//! commit's transaction from the same [`JobRow::of`], read by the snapshot listing
//! ([`onsite_sync::relay::DocStore::window_docs`]) and by `GET /api/v1/history` ([`search`]).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use onsite_domain::order::Order;
use onsite_domain::visit::Visit;
use onsite_domain::{Code, DocId, phone, retention};
use onsite_sync::access::{Principal, access};
use onsite_wire::{HISTORY_LIMIT, HistoryAnswer, HistoryJob, HistoryQuery, Role};

use crate::api::{ApiError, AppState, authenticated, blocking};

/// What the job index keeps about one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub order_id: String,
    pub order_no: String,
    pub customer_name: String,
    /// The customer's phone as normalised digits (`onsite_domain::phone`), or as written when it
    /// does not normalise.
    pub phone: String,
    pub household_id: String,
    pub settled: bool,
    pub last_activity_ms: i64,
}

impl JobRow {
    /// The row of `order` with its `visits`.
    pub fn of(order: &Order, visits: &[Visit]) -> JobRow {
        let job = retention::job(order, visits);
        JobRow {
            order_id: order.order_id.clone(),
            order_no: order.order_no.clone(),
            customer_name: order.customer.name.clone(),
            phone: phone::normalise(&order.customer.phone)
                .unwrap_or_else(|_| order.customer.phone.clone()),
            household_id: order.customer.household_id.clone(),
            settled: job.settled,
            last_activity_ms: job.last_activity_ms,
        }
    }
}

/// What a history search looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Every job of one household.
    Household(String),
    /// An order number (exact), a phone number (its digits, exact) or part of a customer name.
    Text {
        order_no: String,
        phone: Option<String>,
        name: String,
    },
}

/// Shortest text searched for: one or two characters would list half the history.
pub const MIN_QUERY_CHARS: usize = 2;

impl Ask {
    /// The search a query asks for; a clear refusal for an empty, doubled or too short one.
    pub fn of(q: &HistoryQuery) -> Result<Ask, ApiError> {
        let bad = |what: &str| ApiError::new(StatusCode::BAD_REQUEST, Code::HistoryBadQuery, what);
        match (q.q.as_deref().map(str::trim), q.household.as_deref()) {
            (Some(_), Some(_)) => Err(bad("give either q or household, not both")),
            (None, Some(h)) if !h.is_empty() => Ok(Ask::Household(h.to_owned())),
            (Some(t), None) if t.chars().count() >= MIN_QUERY_CHARS => Ok(Ask::Text {
                order_no: t.to_owned(),
                phone: phone::query_digits(t).filter(|d| d.len() >= 7),
                name: t.to_owned(),
            }),
            (Some(_), None) => Err(bad(
                "search for at least two characters of an order number, a phone number or a name",
            )),
            _ => Err(bad("give q (order number, phone or name) or household")),
        }
    }
}

/// One job found, with its documents and centre, before access is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub job: HistoryJob,
    /// The centre of the order (`None`: stored without one — nobody's but the admins').
    pub centre: Option<String>,
}

/// The jobs of `found` that `who` may read, each with only the documents they may read.
pub fn readable(who: &Principal, found: Vec<Found>) -> Vec<HistoryJob> {
    found
        .into_iter()
        .filter_map(|f| {
            let mut job = f.job;
            let may = |d: &DocId| access(who, d, None, f.centre.as_deref()).can_read();
            if !may(&DocId::Order(job.order_id.clone())) {
                return None;
            }
            job.docs.retain(may);
            Some(job)
        })
        .collect()
}

/// `GET /api/v1/history`: staff only — a technician's device holds their own jobs.
pub async fn search(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HistoryQuery>,
) -> Result<axum::Json<HistoryAnswer>, ApiError> {
    let auth = authenticated(&st, &headers).await?;
    let who = auth.principal;
    if who.role == Role::Technician {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::HistoryStaffOnly,
            "the history search is for dispatchers and admins; a technician's device holds their own jobs",
        ));
    }
    let ask = Ask::of(&q)?;
    let centre = (who.role != Role::Admin).then(|| who.centre.clone());
    let storage = st.storage().clone();
    let found = blocking(move || storage.history(centre.as_deref(), &ask, HISTORY_LIMIT)).await??;
    Ok(axum::Json(HistoryAnswer {
        jobs: readable(&who, found),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(q: Option<&str>, household: Option<&str>) -> HistoryQuery {
        HistoryQuery {
            q: q.map(str::to_owned),
            household: household.map(str::to_owned),
        }
    }

    #[test]
    fn a_query_is_a_household_or_a_text_and_anything_else_is_refused_with_a_code() {
        assert_eq!(
            Ask::of(&q(None, Some("h-1"))).unwrap(),
            Ask::Household("h-1".into())
        );
        assert_eq!(
            Ask::of(&q(Some(" 138 0000 0001 "), None)).unwrap(),
            Ask::Text {
                order_no: "138 0000 0001".into(),
                phone: Some("13800000001".into()),
                name: "138 0000 0001".into()
            },
            "a phone number is searched by its digits"
        );
        let Ask::Text { phone, .. } = Ask::of(&q(Some("王芳"), None)).unwrap() else {
            panic!("a name is a text search");
        };
        assert_eq!(phone, None, "a name is no phone number");
        for refused in [
            q(None, None),
            q(Some("x"), None),
            q(Some("  "), None),
            q(Some("王芳"), Some("h-1")),
            q(None, Some("")),
        ] {
            let e = Ask::of(&refused).unwrap_err();
            assert_eq!(e.body.code, Code::HistoryBadQuery, "{refused:?} is refused");
        }
    }

    #[test]
    fn only_the_jobs_and_documents_the_caller_may_read_are_listed() {
        let job = |id: &str| HistoryJob {
            order_id: id.into(),
            order_no: format!("WO-{id}"),
            customer_name: "王芳".into(),
            household_id: "h-1".into(),
            settled: true,
            last_activity_ms: 1,
            docs: vec![DocId::Order(id.into()), DocId::visit(id, "tech.a")],
        };
        let found = vec![
            Found {
                job: job("o-1"),
                centre: Some("main".into()),
            },
            Found {
                job: job("o-2"),
                centre: Some("sh".into()),
            },
            Found {
                job: job("o-3"),
                centre: None,
            },
        ];
        let who = |role| Principal {
            user_id: "u".into(),
            role,
            centre: "main".into(),
        };
        let ids = |jobs: Vec<HistoryJob>| -> Vec<String> {
            jobs.into_iter().map(|j| j.order_id).collect()
        };
        assert_eq!(
            ids(readable(&who(Role::Dispatcher), found.clone())),
            vec!["o-1"],
            "a dispatcher finds their own centre's jobs only; one stored without a centre is nobody's"
        );
        assert_eq!(
            ids(readable(&who(Role::Admin), found)),
            vec!["o-1", "o-2", "o-3"],
            "an admin finds every centre's"
        );
    }
}
