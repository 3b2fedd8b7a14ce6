//! What an incoming sync message would cost to apply, found before applying it.
//!
//! Applying Automerge operations to a document is the relay's most expensive work (a single
//! 1,866-byte message inserting a million characters took seconds and hundreds of megabytes), and
//! the cost is set by the number of operations, not the message's size on the wire. So the relay
//! parses every chunk the message carries — each must be a whole, checksummed Automerge chunk —
//! and counts its operations first; a message over [`onsite_domain::admit::MESSAGE_OPS`] is
//! refused without being applied, and damaged bytes are reported as malformed instead of being
//! silently skipped by Automerge's lenient incremental load.

use automerge::sync::Message;
use automerge::{Automerge, Change, ReadDoc};

/// The start of every Automerge storage chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Magic bytes, checksum, chunk type.
const HEADER: usize = 9;

/// The number of operations the changes of `msg` carry, or why they are not well-formed chunks.
pub fn message_ops(msg: &Message) -> Result<u64, String> {
    let mut ops = 0u64;
    for entry in msg.changes.iter() {
        let mut rest = entry;
        while !rest.is_empty() {
            let (chunk, tail) = split_chunk(rest)?;
            ops = ops.saturating_add(chunk_ops(chunk)?);
            rest = tail;
        }
    }
    Ok(ops)
}

/// The first chunk of `bytes` and what follows it.
fn split_chunk(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    if bytes.len() < HEADER || bytes[..4] != MAGIC {
        return Err("a change chunk does not start with Automerge's magic bytes".to_owned());
    }
    let (len, len_bytes) = uleb128(&bytes[HEADER..])?;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| (HEADER + len_bytes).checked_add(l))
        .filter(|end| *end <= bytes.len())
        .ok_or_else(|| format!("a change chunk claims {len} bytes, more than the message holds"))?;
    Ok(bytes.split_at(end))
}

/// An unsigned LEB128 number and how many bytes it took.
fn uleb128(bytes: &[u8]) -> Result<(u64, usize), String> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().take(10).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err("a change chunk's length is not a valid number".to_owned())
}

/// The operations of one whole chunk, by its type; its checksum is verified by the parse.
fn chunk_ops(chunk: &[u8]) -> Result<u64, String> {
    match chunk[8] {
        0 => Automerge::load(chunk)
            .map(|d| d.stats().num_ops)
            .map_err(|e| format!("a document chunk does not load: {e}")),
        1 | 2 => Change::try_from(chunk)
            .map(|c| c.len() as u64)
            .map_err(|e| format!("a change does not parse: {e}")),
        // A bundle is an experimental Automerge format no Onsite peer sends (sync messages carry
        // changes, and from the relay whole documents), and Automerge 0.12 panics parsing some
        // damaged ones (fuzz crasher `tests/fuzz/crashers/document/crash-535e…`): refused unparsed.
        3 => Err("a bundle chunk, which the sync protocol never carries".to_owned()),
        other => Err(format!("unknown chunk type {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};

    /// A sync message carrying `chunks`, as the relay's feed builds them.
    fn message(chunks: Vec<Vec<u8>>) -> Message {
        Message::decode(&crate::relay::feed_message(&[], chunks)).expect("decodes")
    }

    /// The message carrying the changes `edited` made since `base`.
    fn message_after(base: &mut AutoCommit, edited: &mut AutoCommit) -> Message {
        let changes = edited.get_changes(&base.get_heads());
        message(changes.iter().map(|c| c.raw_bytes().to_vec()).collect())
    }

    #[test]
    fn a_text_insert_costs_one_operation_per_character_and_a_scalar_one() {
        let mut base = AutoCommit::new();
        base.put(ROOT, "diagnosis", "x").unwrap();
        let mut edited = base.fork();
        let text = edited.put_object(ROOT, "notes", ObjType::Text).unwrap();
        edited.splice_text(&text, 0, 0, &"a".repeat(5_000)).unwrap();
        edited.put(ROOT, "diagnosis", "y".repeat(5_000)).unwrap();
        let expected: usize = edited
            .get_changes(&base.get_heads())
            .iter()
            .map(|c| c.len())
            .sum();
        assert!(
            (5_001..5_010).contains(&expected),
            "the text costs one operation per character, the 5,000-character scalar about one: {expected}"
        );
        let m = message_after(&mut base, &mut edited);
        assert_eq!(
            message_ops(&m),
            Ok(expected as u64),
            "the message's operations are counted"
        );
    }

    #[test]
    fn a_whole_document_counts_all_its_operations() {
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "hello").unwrap();
        let m = message(vec![doc.save()]);
        assert_eq!(
            message_ops(&m),
            Ok(6),
            "a whole document counts makeText and 5 characters"
        );
    }

    #[test]
    fn a_bundle_is_refused_without_being_parsed() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        let hashes = doc.get_heads();
        let bundle = doc.bundle(hashes).expect("a bundle of one change");
        assert_eq!(
            message_ops(&message(vec![bundle.bytes().to_vec()])),
            Err("a bundle chunk, which the sync protocol never carries".to_owned()),
            "bundles are refused before Automerge parses them (a damaged one panics inside it)"
        );
    }

    #[test]
    fn damaged_or_truncated_chunks_are_malformed_not_skipped() {
        let mut base = AutoCommit::new();
        base.put(ROOT, "a", 1).unwrap();
        let mut edited = base.fork();
        edited.put(ROOT, "b", 2).unwrap();
        let m = message_after(&mut base, &mut edited);
        let good: Vec<u8> = m.changes.iter().flatten().copied().collect();
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        let truncated = good[..good.len() - 1].to_vec();
        let garbage = vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        for (what, bytes) in [
            ("flipped", flipped),
            ("truncated", truncated),
            ("garbage", garbage),
        ] {
            let bad = Message {
                changes: vec![bytes].into(),
                ..m.clone()
            };
            assert!(message_ops(&bad).is_err(), "{what} bytes must be refused");
        }
    }
}
