//! API tokens for the systems around the relay (ERP/CRM): created by an administrator on the
//! relay's command line with scopes (`onsite-relay token create --scope export`), shown once,
//! stored only as SHA-256 like session tokens, revocable. And who may call a scoped route: an
//! admin's session, or an API token with the scope.

use std::fmt;
use std::str::FromStr;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use onsite_domain::Code;
use onsite_wire::Role;
use rand::RngCore;

use crate::accounts::{self, AuthError, token_sha256};
use crate::api::{ApiError, AppState, blocking, now_ms};
use crate::storage::{RelayStorage, StorageError};

/// Prefix of an API token (session tokens start with `ons_`).
pub const API_TOKEN_PREFIX: &str = "onx_";

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read the completed and signed records (`GET /api/v1/export/records`).
    Export,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Export => "export",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "export" => Ok(Scope::Export),
            other => Err(format!("'{other}' is not a scope; the scopes are: export")),
        }
    }
}

/// One API token as stored (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// `api:<8 hex>`: a user id never contains `:`, so `token revoke` tells the two apart.
    pub id: String,
    pub name: String,
    pub token_sha256: String,
    pub scopes: Vec<Scope>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// Where API tokens are kept.
pub trait ApiTokenStore {
    fn add_api_token(&self, token: &ApiToken) -> Result<(), StorageError>;
    fn api_token_by_hash(&self, token_sha256: &str) -> Result<Option<ApiToken>, StorageError>;
    /// Every API token, oldest first.
    fn api_tokens(&self) -> Result<Vec<ApiToken>, StorageError>;
    /// Revoke one; false when it is unknown or already revoked.
    fn revoke_api_token(&self, id: &str, now_ms: i64) -> Result<bool, StorageError>;
}

/// Whether `id` names an API token rather than a user.
pub fn is_api_token_id(id: &str) -> bool {
    id.starts_with("api:")
}

/// Create an API token with `scopes`: the clear token (print it once) and what is stored.
pub fn create(
    store: &dyn ApiTokenStore,
    name: &str,
    scopes: &[Scope],
    now_ms: i64,
) -> Result<(String, ApiToken), AuthError> {
    if scopes.is_empty() {
        return Err(AuthError::Input(
            "give at least one scope (--scope export)".into(),
        ));
    }
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let mut secret = [0u8; 32];
    let mut id = [0u8; 4];
    rand::rng().fill_bytes(&mut secret);
    rand::rng().fill_bytes(&mut id);
    let token = format!(
        "{API_TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let record = ApiToken {
        id: format!("api:{}", hex::encode(id)),
        name: name.to_owned(),
        token_sha256: token_sha256(&token),
        scopes,
        created_at_ms: now_ms,
        revoked_at_ms: None,
    };
    store.add_api_token(&record)?;
    Ok((token, record))
}

/// Who called a scoped route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin { user_id: String },
    ApiToken { id: String },
}

/// Resolve `token` for a route that needs `scope`: an API token with the scope, or an admin's
/// session. A token that is unknown, expired or revoked is an [`AuthError`] (401); a valid one
/// without the right is `Ok(None)` (403).
pub fn authorise(
    store: &dyn RelayStorage,
    token: &str,
    scope: Scope,
    now_ms: i64,
) -> Result<Option<Caller>, AuthError> {
    if token.starts_with(API_TOKEN_PREFIX) {
        let Some(t) = store.api_token_by_hash(&token_sha256(token))? else {
            return Err(AuthError::Invalid);
        };
        if t.revoked_at_ms.is_some() {
            return Err(AuthError::Revoked);
        }
        return Ok(t
            .scopes
            .contains(&scope)
            .then_some(Caller::ApiToken { id: t.id }));
    }
    let auth = accounts::authenticate(store, token, now_ms)?;
    Ok(
        (auth.principal.role == Role::Admin).then_some(Caller::Admin {
            user_id: auth.principal.user_id,
        }),
    )
}

/// The caller of a route that needs `scope`, from the request's bearer token.
pub async fn require(st: &AppState, headers: &HeaderMap, scope: Scope) -> Result<Caller, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Missing)?
        .to_owned();
    let storage = st.storage().clone();
    let caller = blocking(move || authorise(storage.as_ref(), &token, scope, now_ms())).await??;
    caller.ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            Code::ExportForbidden,
            format!(
                "this needs an admin's session or an API token with the '{scope}' scope (onsite-relay token create --scope {scope})"
            ),
        )
    })
}
