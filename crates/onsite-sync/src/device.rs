//! The device side of the protocol, one document at a time.
//!
//! Per document the device persists a [`PeerState`]: the heads it knows the relay holds. A
//! document needs syncing when its heads differ from those ([`is_unsynced`]). To sync:
//!
//! 1. For each unsynced document call [`outgoing`] and put the bytes in a
//!    [`onsite_wire::DocMessage`]; build the request with [`build_request`] and the stored cursor.
//! 2. For each message of the response call [`incoming`] on the local document (an empty
//!    `AutoCommit` for a document the device does not have yet) and its state, then persist the
//!    document and the new state in one transaction, and after all of them the new cursor.
//! 3. Repeat while the response says `more` or a document is still unsynced (normally it is not:
//!    one round trip uploads and downloads everything).
//!
//! Nothing is lost if a response never arrives: state and cursor only move forward after a
//! response is applied, and the relay ignores changes it already has.

use automerge::sync::{self, Capability, Have, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use onsite_domain::DocId;
use onsite_wire::{DocMessage, SyncRequest};

use crate::SyncError;

/// What the device knows the relay holds of one document. Persist with [`PeerState::encode`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerState {
    shared_heads: Vec<ChangeHash>,
}

impl PeerState {
    /// State for a document the relay has never confirmed.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut s = sync::State::new();
        s.shared_heads.clone_from(&self.shared_heads);
        s.encode()
    }

    pub fn decode(doc: &DocId, bytes: &[u8]) -> Result<Self, SyncError> {
        let s = sync::State::decode(bytes).map_err(|e| SyncError::BadState {
            doc: doc.to_string(),
            reason: e.to_string(),
        })?;
        Ok(PeerState {
            shared_heads: s.shared_heads,
        })
    }

    /// Heads of the document the relay is known to hold.
    pub fn shared_heads(&self) -> &[ChangeHash] {
        &self.shared_heads
    }

    /// An Automerge state that assumes the relay holds exactly the shared heads, so the first
    /// message already carries every change made since.
    fn assumed(&self) -> sync::State {
        let mut s = sync::State::new();
        s.shared_heads.clone_from(&self.shared_heads);
        s.their_heads = Some(self.shared_heads.clone());
        s.their_need = Some(Vec::new());
        s.their_have = Some(vec![Have {
            last_sync: self.shared_heads.clone(),
            bloom: sync::BloomFilter::default(),
        }]);
        s.their_capabilities = Some(vec![Capability::MessageV2, Capability::SyncReset]);
        s
    }
}

/// Whether the document has local changes the relay has not confirmed.
pub fn is_unsynced(doc: &mut AutoCommit, state: &PeerState) -> bool {
    doc.get_heads() != state.shared_heads
}

/// The sync message to send for a locally changed document, or `None` when it is in sync.
pub fn outgoing(doc: &mut AutoCommit, state: &PeerState) -> Option<Vec<u8>> {
    if !is_unsynced(doc, state) {
        return None;
    }
    let mut s = state.assumed();
    doc.sync().generate_sync_message(&mut s).map(|m| m.encode())
}

/// A message asking the relay for a document the device does not hold (e.g. opened by id).
/// The relay answers with the whole document, or `document.not_found`.
pub fn request_missing() -> Vec<u8> {
    let mut empty = AutoCommit::new();
    let mut s = sync::State::new();
    empty
        .sync()
        .generate_sync_message(&mut s)
        .expect("a fresh state always produces a first message")
        .encode()
}

/// Apply one message of a response to the local document and its state.
pub fn incoming(
    doc_id: &DocId,
    doc: &mut AutoCommit,
    state: &mut PeerState,
    message: &[u8],
) -> Result<(), SyncError> {
    let malformed = |reason: String| SyncError::Malformed {
        doc: doc_id.to_string(),
        reason,
    };
    let msg = sync::Message::decode(message).map_err(|e| malformed(e.to_string()))?;
    let mut s = state.assumed();
    doc.sync()
        .receive_sync_message(&mut s, msg)
        .map_err(|e| malformed(e.to_string()))?;
    state.shared_heads = s.shared_heads;
    Ok(())
}

/// The request for the given cursor and outgoing messages (from [`outgoing`]).
pub fn build_request(cursor: u64, messages: Vec<(DocId, Vec<u8>)>) -> SyncRequest {
    SyncRequest {
        cursor,
        docs: messages
            .into_iter()
            .map(|(doc, message)| DocMessage { doc, message })
            .collect(),
        count_remaining: false,
        window_days: None,
        snapshot: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    #[test]
    fn peer_state_round_trips_and_damaged_state_is_refused_with_a_code() {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "k", "v").unwrap();
        let st = PeerState {
            shared_heads: doc.get_heads(),
        };
        let id = DocId::Templates;
        assert_eq!(PeerState::decode(&id, &st.encode()).unwrap(), st);
        let err = PeerState::decode(&id, &[9, 9, 9]).unwrap_err();
        assert_eq!(err.code(), "sync.bad_state");
    }

    #[test]
    fn only_documents_with_unconfirmed_changes_produce_messages() {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "k", "v").unwrap();
        let mut st = PeerState::new();
        assert!(is_unsynced(&mut doc, &st));
        let msg = outgoing(&mut doc, &st).expect("a new document has something to send");
        let decoded = sync::Message::decode(&msg).unwrap();
        assert!(
            !decoded.changes.is_empty(),
            "the first message already carries the changes"
        );
        st.shared_heads = doc.get_heads();
        assert!(!is_unsynced(&mut doc, &st));
        assert!(
            outgoing(&mut doc, &st).is_none(),
            "in sync: nothing to send"
        );
    }
}
