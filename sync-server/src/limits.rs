//! The bounds every request (push streams excepted) runs within, as tower layers: a bounded number
//! of requests handled at once (further ones wait for a turn) and a time limit, answered with an
//! [`ErrorBody`](onsite_wire::ErrorBody) like every other error.

use std::time::Duration;

use axum::BoxError;
use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use onsite_domain::Code;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::timeout::TimeoutLayer;

use crate::api::ApiError;
use crate::config::Config;

type Layers = Stack<
    GlobalConcurrencyLimitLayer,
    Stack<TimeoutLayer, Stack<HandleErrorLayer<fn(BoxError) -> Answer, ()>, Identity>>,
>;
type Answer = std::future::Ready<ApiError>;

/// The time limit and the turns of `config`, to wrap the bounded routes in.
pub fn layers(config: &Config) -> ServiceBuilder<Layers> {
    ServiceBuilder::new()
        .layer(HandleErrorLayer::new(answer as fn(BoxError) -> Answer))
        .layer(TimeoutLayer::new(Duration::from_secs(
            config.request_timeout_secs.max(1),
        )))
        .layer(GlobalConcurrencyLimitLayer::new(
            config.max_concurrent_requests.max(1) as usize,
        ))
}

/// What a request that ran out of time (or failed in a layer) is answered.
fn answer(e: BoxError) -> Answer {
    std::future::ready(if e.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::RelayTimeout,
            "the request took longer than the relay's time limit and was not acknowledged; send it again (nothing is ever applied twice)",
        )
        .retry_after(1)
    } else {
        tracing::error!(error = %e, "request failed in a relay layer");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::RelayInternal,
            "the request failed inside the relay; nothing was acknowledged, retry later",
        )
    })
}
