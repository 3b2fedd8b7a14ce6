//! Attachments (photos, signature images): content-addressed by SHA-256, uploaded by devices
//! after the documents that reference them, fetched by whoever reviews the record.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onsite_domain::MAX_ATTACHMENT_BYTES;
use onsite_sync::access::may_read_attachment;
use onsite_wire::{ATTACHMENT_TYPES, Code, check_upload};
use sha2::{Digest, Sha256};

use crate::api::{ApiError, AppState, authenticated, blocking, now_ms};
use crate::storage::StoredAttachment;

fn check_ref(sha256: &str) -> Result<(), ApiError> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::AttachmentBadRef,
            "the attachment id must be the lowercase hex SHA-256 of its bytes",
        ))
    }
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        Code::AttachmentNotFound,
        "no such attachment",
    )
}

/// `PUT /api/v1/attachments/<sha256>`.
pub async fn put(
    State(st): State<AppState>,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let auth = authenticated(&st, &headers).await?;
    check_ref(&sha256)?;
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !ATTACHMENT_TYPES.contains(&mime.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::AttachmentUnsupportedType,
            format!("attachments must be one of {ATTACHMENT_TYPES:?}, not '{mime}'"),
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_ATTACHMENT_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::RequestTooLarge,
            format!("attachments are limited to {MAX_ATTACHMENT_BYTES} bytes; take the photo at a lower resolution"),
        )
    })?;
    check_upload(&mime, &bytes).map_err(|refusal| {
        let status = match refusal.code {
            Code::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        };
        ApiError::new(status, refusal.code, refusal.message)
    })?;
    if hex::encode(Sha256::digest(&bytes)) != sha256 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::AttachmentHashMismatch,
            "the bytes do not hash to the SHA-256 in the URL (truncated upload?); nothing was stored",
        ));
    }
    let attachment = StoredAttachment {
        sha256,
        mime,
        bytes: bytes.to_vec(),
        uploaders: vec![auth.principal.user_id],
        uploader_centres: Vec::new(),
    };
    let storage = st.storage().clone();
    // Always 201: whether someone else already stored these bytes is not the uploader's to know.
    blocking(move || storage.put_attachment(&attachment, now_ms())).await??;
    Ok(StatusCode::CREATED.into_response())
}

/// `GET /api/v1/attachments/<sha256>`.
pub async fn get(
    State(st): State<AppState>,
    Path(sha256): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let auth = authenticated(&st, &headers).await?;
    check_ref(&sha256)?;
    let storage = st.storage().clone();
    let found = blocking(move || storage.attachment(&sha256)).await??;
    match found {
        Some(a) if may_read_attachment(&auth.principal, &a.uploaders, &a.uploader_centres) => Ok((
            [
                (header::CONTENT_TYPE, a.mime),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            ],
            a.bytes,
        )
            .into_response()),
        _ => Err(not_found()),
    }
}
