//! Every request, response and message type exchanged between devices and the relay (`/api/v1`).
//!
//! Types only, no IO. Bodies are JSON (`application/json`), optionally gzip-compressed in both
//! directions (`Content-Encoding: gzip` on requests, `Accept-Encoding: gzip` for responses).
//! Automerge sync messages travel as standard base64 strings inside the JSON.
//!
//! Routes (all under [`API_PREFIX`]):
//! - `GET  /healthz` (outside the prefix) → `ok`
//! - `GET  /api/v1/capabilities` → [`Capabilities`] (no auth)
//! - `POST /api/v1/sign-in` [`SignInRequest`] → [`SignInResponse`]
//! - `POST /api/v1/sync` [`SyncRequest`] → [`SyncResponse`] (bearer token)
//! - `GET  /api/v1/events` → server-sent events, each a [`PushEvent`] (bearer token)
//! - `GET  /api/v1/history?q=<text>|household=<id>` → [`HistoryAnswer`] (bearer token; staff)
//! - `POST /api/v1/sign-out` → 204, revokes the presented token
//! - `PUT  /api/v1/attachments/<sha256>` raw bytes (`image/png`, `image/jpeg`) → 201 new / 200
//!   already stored (bearer token); the bytes must hash to `<sha256>`
//! - `GET  /api/v1/attachments/<sha256>` → the bytes (bearer token; dispatchers read every
//!   attachment, technicians their own)
//!
//! - `GET  /api/v1/export/records?since=<cursor>&limit=<n>[&format=csv]` → the completed and
//!   signed records ([`back_office`]; an admin's session or an API token with the `export` scope)
//!
//! - `GET  /verify/<order-no>/<hash>` and `GET /verify/cert/<certificate-no>/<signature>`
//!   (outside the prefix, no auth): the public pages a customer opens from a record's or a
//!   certificate's QR code (HTML, zh-CN or en by `Accept-Language`)
//!
//! Every non-2xx answer carries an [`ErrorBody`] whose `code` is a [`Code`] (defined in
//! `onsite-domain`, the one list of error codes; each variant's docs give the HTTP status it comes
//! with on the relay). A device reads a code it does not know as [`Code::Unknown`].

pub mod back_office;

pub use onsite_domain::Code;
use onsite_domain::DocId;
use serde::{Deserialize, Serialize};

/// The port a relay listens on when nothing else is configured.
pub const DEFAULT_RELAY_PORT: u16 = 8750;
/// The address a relay listens on when nothing else is configured (localhost only).
pub const DEFAULT_RELAY_LISTEN: &str = "127.0.0.1:8750";
/// The relay URL a device proposes before anyone signed in on it: the default relay on this
/// machine ([`DEFAULT_RELAY_LISTEN`]).
pub const DEFAULT_RELAY_URL: &str = "http://127.0.0.1:8750";

/// Path prefix of the versioned API.
pub const API_PREFIX: &str = "/api/v1";
/// Version number of this API; [`Capabilities::api_versions`] lists those a relay speaks.
pub const API_VERSION: u32 = 1;
/// Name of the sync protocol spoken at `/api/v1/sync`.
pub const SYNC_PROTOCOL: &str = "onsite-feed-automerge/1";
/// SSE event name of [`PushEvent::FeedAdvanced`].
pub const EVENT_FEED: &str = "feed";
/// SSE event name of [`PushEvent::SignedOut`].
pub const EVENT_SIGNED_OUT: &str = "signed_out";

/// Who a user is to the relay; decides what they may read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Technician,
    Dispatcher,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Technician => "technician",
            Role::Dispatcher => "dispatcher",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "technician" => Ok(Role::Technician),
            "dispatcher" => Ok(Role::Dispatcher),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role '{other}': use technician, dispatcher or admin"
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /api/v1/sign-in`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub user_id: String,
    pub password: String,
    /// Stable id of this installation; the token is bound to it.
    pub device_id: String,
}

/// Answer to a successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInResponse {
    /// Opaque bearer token: send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Milliseconds since the Unix epoch after which the token is refused.
    pub expires_at_ms: i64,
    pub role: Role,
    pub user_id: String,
    pub display_name: String,
    /// This device's order-number prefix ([A-Z0-9], 2–6 characters): unique per device id across
    /// the relay, allocated on the device's first sign-in and the same afterwards, so a
    /// dispatcher's device numbers orders offline (`WO-YYYYMMDD-<PREFIX>-<SEQ>`) without
    /// colliding with another device. Empty from a relay older than the field.
    #[serde(default)]
    pub order_prefix: String,
    /// For a technician with a profile: the relay path of their certificate's public page
    /// (`/verify/cert/<certificate-no>/<signature>`, signed by the relay), which the
    /// certificate QR encodes after the relay's URL. Absent from older relays and for other users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_path: Option<String>,
}

/// `GET /api/v1/capabilities`: lets older clients degrade cleanly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Always `onsite-relay`.
    pub server: String,
    /// The relay build's version.
    pub version: String,
    /// API versions this relay answers, e.g. `[1]`.
    pub api_versions: Vec<u32>,
    /// Sync protocol name, [`SYNC_PROTOCOL`].
    pub sync_protocol: String,
    /// Largest accepted request body, after decompression.
    pub max_body_bytes: u64,
    /// Largest stored size of one document.
    pub max_doc_bytes: u64,
    /// Most documents one sync response carries before setting `more`.
    pub max_docs_per_response: u32,
    /// Content encodings accepted on requests and offered on responses.
    pub encodings: Vec<String>,
    /// Optional features, e.g. `events` (SSE push).
    pub features: Vec<String>,
}

/// One document's Automerge sync message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMessage {
    pub doc: DocId,
    /// Encoded `automerge::sync::Message` (base64 in JSON).
    #[serde(with = "b64")]
    pub message: Vec<u8>,
}

/// `POST /api/v1/sync`: the device's feed cursor plus a message for each document it changed
/// locally since its last sync. Sending the same request twice is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The `cursor` of the last response the device applied and stored; 0 on first sync.
    pub cursor: u64,
    pub docs: Vec<DocMessage>,
    /// Ask the relay to count the feed's documents left beyond its answer
    /// ([`SyncResponse::remaining`]). Counting reads every waiting document's access, so a
    /// device asks on the first request of a sync only; absent means no.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub count_remaining: bool,
    /// A partial replica: the device holds the open jobs and those active within this many days
    /// (`onsite_domain::retention`) plus every document outside jobs (registry, reference,
    /// profiles, ledgers), and fetches older jobs by id. On a first sync (`cursor` 0) a
    /// dispatcher's or admin's relay then answers a snapshot of those documents instead of the
    /// whole history ([`SyncResponse::snapshot`]); absent means the whole history. Technicians
    /// hold their own jobs only and always get their whole feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
    /// The [`SyncResponse::snapshot`] of the previous answer, while a snapshot is being read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// A document of the request the relay refused; nothing of it was stored or forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRejection {
    pub doc: DocId,
    /// [`Code::DocumentNotFound`], [`Code::AccessReadOnly`], [`Code::DocumentTooLarge`],
    /// [`Code::DocumentUnexpectedShape`], or for an order [`Code::AssignmentNotQualified`] (a
    /// new assignee the relay finds unqualified) or [`Code::OrderDuplicateNumber`].
    pub code: Code,
    pub message: String,
}

/// Answer to a sync request. Everything in it is durably committed on the relay.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Store this after applying every message below, and send it next time.
    pub cursor: u64,
    /// More feed entries are waiting: sync again straight away.
    pub more: bool,
    /// Messages to apply: answers for the documents the device sent, documents changed on the
    /// relay since the cursor, and full copies of newly granted documents.
    pub docs: Vec<DocMessage>,
    /// Documents that became readable since the cursor (e.g. an order assigned to this technician).
    pub grants: Vec<DocId>,
    /// Documents no longer readable (e.g. an order reassigned away): drop them from lists, but keep
    /// any unsynced local work.
    pub revocations: Vec<DocId>,
    /// Documents of the request that were refused.
    pub rejected: Vec<DocRejection>,
    /// How many new changes of this request the relay stored (0 for a replay).
    pub stored_changes: u64,
    /// When the request asked (`count_remaining`): documents the feed still holds for this
    /// device beyond this answer (0 when `more` is false) — with the documents received so far,
    /// the "n of N" of a long sync. Absent when not asked, and from relays older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
    /// The relay database's epoch: an opaque id that changes whenever the database is restored
    /// from a backup (`onsite-relay restore`; a SQLite backup copy already carries a fresh one). A device
    /// that finds it different from the one it last stored synced with a history the relay no
    /// longer holds: it forgets its cursor and what it knew the relay held, and sends everything
    /// it wrote again. Absent from relays older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// A windowed first sync ([`SyncRequest::window_days`]) is reading its snapshot and this page
    /// was not the last: keep `cursor` (still 0) and send this back as
    /// [`SyncRequest::snapshot`]. The last page leaves it out and gives the feed cursor the
    /// snapshot was taken at; the feed goes on from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// `GET /api/v1/history?q=<text>` or `?household=<household-id>`: the jobs of the relay's whole
/// history a partial replica ([`SyncRequest::window_days`]) may not hold — by order number,
/// customer phone or name (`q`), or every job of one household — newest activity first, at most
/// [`HISTORY_LIMIT`], only what the caller may read. The device then asks for the listed documents
/// by id in a sync request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HistoryQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
}

/// Most jobs one history search answers.
pub const HISTORY_LIMIT: usize = 50;

/// One job found in the relay's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryJob {
    pub order_id: String,
    pub order_no: String,
    pub customer_name: String,
    pub household_id: String,
    /// Completed or cancelled (`onsite_domain::retention::Job::settled`).
    pub settled: bool,
    pub last_activity_ms: i64,
    /// The order and its visits, as the device asks for them.
    pub docs: Vec<DocId>,
}

/// Answer of `GET /api/v1/history`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HistoryAnswer {
    pub jobs: Vec<HistoryJob>,
}

/// One server-sent event on `/api/v1/events` (`event:` is [`PushEvent::name`], `data:` the JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PushEvent {
    /// Something this user may read changed; the relay's feed is now at `cursor`. Sync when the
    /// device's stored cursor is lower.
    FeedAdvanced { cursor: u64 },
    /// The token was revoked or expired; sign in again.
    SignedOut { code: Code },
}

impl PushEvent {
    pub fn name(&self) -> &'static str {
        match self {
            PushEvent::FeedAdvanced { .. } => EVENT_FEED,
            PushEvent::SignedOut { .. } => EVENT_SIGNED_OUT,
        }
    }
}

/// Body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code; match on this, never on `message`.
    pub code: Code,
    /// What went wrong and how to fix it, for people.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ErrorBody {
            code,
            message: message.into(),
        }
    }
}

/// Attachment types the relay accepts.
pub const ATTACHMENT_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

/// Which of [`ATTACHMENT_TYPES`] the bytes are, by their magic numbers (PNG signature, JPEG SOI
/// marker, RIFF…WEBP); `None` for anything else. An upload is stored only when this agrees with
/// its declared type, so an HTML page or a script is never served back as an "image".
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The relay's check of an attachment upload's declared type and bytes before it stores them:
/// one of [`ATTACHMENT_TYPES`], at most [`onsite_domain::MAX_ATTACHMENT_BYTES`], and bytes that
/// [`sniff_image`] finds to be that type. The refusal carries its code
/// ([`Code::AttachmentUnsupportedType`] or [`Code::RequestTooLarge`]).
pub fn check_upload(mime: &str, bytes: &[u8]) -> Result<(), ErrorBody> {
    if !ATTACHMENT_TYPES.contains(&mime) {
        return Err(ErrorBody::new(
            Code::AttachmentUnsupportedType,
            format!("attachments must be one of {ATTACHMENT_TYPES:?}, not '{mime}'"),
        ));
    }
    let max = onsite_domain::MAX_ATTACHMENT_BYTES;
    if bytes.len() > max {
        return Err(ErrorBody::new(
            Code::RequestTooLarge,
            format!("attachments are limited to {max} bytes; take the photo at a lower resolution"),
        ));
    }
    if sniff_image(bytes) != Some(mime) {
        return Err(ErrorBody::new(
            Code::AttachmentUnsupportedType,
            format!("the bytes are not a {mime} image; nothing was stored"),
        ));
    }
    Ok(())
}

/// Serde helper: bytes as standard base64 text.
pub mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("message is not base64: {e}")))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn images_are_told_by_their_magic_numbers_not_their_label() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n rest"), Some("image/png"));
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some("image/jpeg")
        );
        assert_eq!(sniff_image(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        for not_an_image in [&b"<html><script>"[..], b"", b"\x89PN", b"RIFF\0\0\0\0WAVE"] {
            assert_eq!(sniff_image(not_an_image), None, "{not_an_image:?}");
        }
    }

    use super::*;

    #[test]
    fn default_relay_url_points_at_the_default_listen_address() {
        assert_eq!(
            DEFAULT_RELAY_URL,
            format!("http://{DEFAULT_RELAY_LISTEN}"),
            "a fresh device must propose the address a zero-config relay listens on"
        );
        assert!(
            DEFAULT_RELAY_LISTEN.ends_with(&format!(":{DEFAULT_RELAY_PORT}")),
            "the listen address uses the default port"
        );
    }

    #[test]
    fn a_sign_in_answer_from_an_older_relay_still_reads() {
        let old = r#"{"token":"ons_x","expires_at_ms":5,"role":"dispatcher","user_id":"disp","display_name":"D"}"#;
        let read: SignInResponse =
            serde_json::from_str(old).expect("an answer without the new fields must still read");
        assert_eq!(read.order_prefix, "", "no prefix from an older relay");
        assert_eq!(
            read.certificate_path, None,
            "no certificate page from an older relay"
        );
        let new = SignInResponse {
            order_prefix: "K7QX".into(),
            certificate_path: Some("/verify/cert/C-1/sig".into()),
            ..read
        };
        let back: SignInResponse = serde_json::from_str(&serde_json::to_string(&new).unwrap())
            .expect("the new fields round-trip");
        assert_eq!(back, new, "prefix and certificate path travel");
    }

    #[test]
    fn sync_request_round_trips_with_base64_messages() {
        let req = SyncRequest {
            snapshot: None,
            window_days: None,
            cursor: 42,
            docs: vec![DocMessage {
                doc: DocId::visit("o-1", "tech.a"),
                message: vec![0x42, 0, 1, 255],
            }],
            count_remaining: false,
        };
        let json = serde_json::to_string(&req).unwrap();
        assert!(
            json.contains("\"visit:o-1:tech.a\"") && json.contains("\"QgAB/w==\""),
            "doc ids travel as text and messages as base64: {json}"
        );
        let back: SyncRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, req);
    }

    #[test]
    fn bad_base64_and_bad_doc_ids_are_refused_by_deserialisation() {
        let bad_b64 = r#"{"cursor":0,"docs":[{"doc":"order:o-1","message":"***"}]}"#;
        assert!(serde_json::from_str::<SyncRequest>(bad_b64).is_err());
        let bad_id = r#"{"cursor":0,"docs":[{"doc":"order:a b","message":""}]}"#;
        assert!(serde_json::from_str::<SyncRequest>(bad_id).is_err());
    }

    #[test]
    fn push_events_are_tagged() {
        let e = PushEvent::FeedAdvanced { cursor: 7 };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"feed_advanced","cursor":7}"#
        );
        assert_eq!(e.name(), EVENT_FEED);
    }

    #[test]
    fn error_bodies_carry_dotted_codes_and_survive_codes_from_a_newer_relay() {
        let body = ErrorBody::new(Code::AuthTokenRevoked, "signed out");
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json, r#"{"code":"auth.token_revoked","message":"signed out"}"#,
            "the wire keeps the dotted text"
        );
        let newer: ErrorBody =
            serde_json::from_str(r#"{"code":"auth.invented_later","message":"m"}"#)
                .expect("a newer relay's code must not make the whole body unreadable");
        assert_eq!(newer.code, Code::Unknown);
        assert_eq!(newer.message, "m", "the message still arrives for the logs");
        let e: PushEvent =
            serde_json::from_str(r#"{"type":"signed_out","code":"auth.token_revoked"}"#).unwrap();
        assert_eq!(
            e,
            PushEvent::SignedOut {
                code: Code::AuthTokenRevoked
            }
        );
    }

    #[test]
    fn roles_parse_from_their_names() {
        for r in [Role::Technician, Role::Dispatcher, Role::Admin] {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("boss".parse::<Role>().is_err());
    }
}
