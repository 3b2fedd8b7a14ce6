//! A dispatcher's partial replica (issue 14): the history window this device holds, the search of
//! the relay's whole history for older jobs, and fetching one of them onto the device (held for
//! [`onsite_client::FETCHED_HOLD_MS`], then evicted again by the window).

use onsite_domain::DocId;
use onsite_wire::HistoryQuery;

use super::{App, lock};
use crate::error::AppError;
use crate::view::*;

impl App {
    /// The history window this device holds.
    pub fn history_window(&self) -> Result<HistoryWindowView, AppError> {
        self.dispatcher()?;
        let session = onsite_client::Session::load(&self.store)?.ok_or(AppError::NotSignedIn)?;
        Ok(HistoryWindowView {
            days: onsite_client::history_window(&self.store, &session)?,
            default_days: onsite_domain::retention::DEFAULT_WINDOW_DAYS,
        })
    }

    /// Hold `days` of history on this device (`0`: the whole history); a shorter window evicts at
    /// the next sync, a longer one keeps what arrives from now on. May be set before the first
    /// sign-in (a technician's device holds its own jobs whatever it says).
    pub fn set_history_window(&self, days: u32) -> Result<(), AppError> {
        if days > onsite_domain::retention::MAX_WINDOW_DAYS {
            return Err(AppError::WindowTooLong(days));
        }
        onsite_client::set_history_window(&self.store, days)?;
        Ok(())
    }

    /// Search the relay's whole history (order number, phone or part of a name; or every job of
    /// one household). Needs the network.
    pub async fn search_history(
        &self,
        req: HistorySearchRequest,
    ) -> Result<HistorySearchView, AppError> {
        self.dispatcher()?;
        let session = onsite_client::Session::load(&self.store)?.ok_or(AppError::NotSignedIn)?;
        let token = session.token.as_deref().ok_or(AppError::NotSignedIn)?;
        let relay = onsite_client::Relay::for_device(&self.store, &session.relay_url)?;
        let query = HistoryQuery {
            q: req.query.clone(),
            household: req.household_id.clone(),
        };
        let answer = relay.history(token, &query).await?;
        let store = lock(&self.store);
        let mut jobs = Vec::with_capacity(answer.jobs.len());
        for j in answer.jobs {
            jobs.push(HistoryJobView {
                on_device: store.contains(&DocId::Order(j.order_id.clone()))?,
                order_id: j.order_id,
                order_no: j.order_no,
                customer_name: j.customer_name,
                household_id: j.household_id,
                settled: j.settled,
                last_activity_ms: j.last_activity_ms,
                docs: j.docs.iter().map(ToString::to_string).collect(),
            });
        }
        Ok(HistorySearchView {
            query: req.query,
            household_id: req.household_id,
            jobs,
        })
    }

    /// Bring the documents `docs` of a job found in the history onto this device (one sync), held
    /// there for a week whatever the window says. Returns how many arrived.
    pub async fn fetch_history(&self, docs: Vec<String>) -> Result<FetchedView, AppError> {
        self.dispatcher()?;
        let ids = docs
            .iter()
            .map(|d| {
                d.parse::<DocId>()
                    .map_err(|_| AppError::BadDocId(d.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let session = onsite_client::Session::load(&self.store)?.ok_or(AppError::NotSignedIn)?;
        let relay = onsite_client::Relay::for_device(&self.store, &session.relay_url)?;
        let report =
            onsite_client::sync_fetching(&self.store, &relay, &session, &ids, |_, _| {}).await?;
        Ok(FetchedView {
            fetched: report.fetched as u32,
        })
    }
}
