//! The saved form a document is stored in, by the relay after a write and by the device store
//! for a document's snapshot. Automerge compresses every column over 256 bytes with DEFLATE on
//! `save()`, and a deflate or inflate stream costs its set-up (tables and a window of tens of
//! kilobytes, zeroed) per column, whatever the column's size: for typical documents (an order or
//! a visit of 1–4 KB) that set-up was most of the cost of saving after every write and of loading
//! before the next one (docs/benchmarks.md, "the relay under load", third round, and "the device
//! at scale"). Documents are therefore stored uncompressed up to [`COMPRESS_FROM`] bytes and
//! compressed beyond; both forms load alike, so what is already stored stays as it is.

use automerge::AutoCommit;

/// The uncompressed size from which a document is stored compressed: large documents keep
/// the storage and the wire savings.
pub const COMPRESS_FROM: usize = 64 * 1024;

/// `doc` saved whole for storage: uncompressed when small, else compressed. Also compressed
/// when the uncompressed form is over `limit` (the relay's document size limit; `u64::MAX` for
/// none), so the limit keeps applying to the compressed form as it always did.
pub fn for_storage(doc: &mut AutoCommit, limit: u64) -> Vec<u8> {
    let plain = doc.save_nocompress();
    if plain.len() < COMPRESS_FROM && plain.len() as u64 <= limit {
        plain
    } else {
        doc.save()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ROOT, ReadDoc};

    fn doc_with_text(len: usize) -> AutoCommit {
        let mut d = AutoCommit::new();
        d.put(
            ROOT,
            "notes",
            "start capacitor failed; ".repeat(len / 24 + 1),
        )
        .unwrap();
        d.put(ROOT, "schema", 1).unwrap();
        d.commit();
        d
    }

    fn loads_as(bytes: &[u8], doc: &mut AutoCommit) {
        let mut back = AutoCommit::load(bytes).expect("the stored form loads");
        assert_eq!(
            back.get_heads(),
            doc.get_heads(),
            "the stored form must hold exactly the document's changes"
        );
        assert_eq!(
            back.get(ROOT, "notes").unwrap().map(|(v, _)| v.to_string()),
            doc.get(ROOT, "notes").unwrap().map(|(v, _)| v.to_string()),
            "and read the same"
        );
    }

    #[test]
    fn a_small_document_is_stored_uncompressed() {
        let mut d = doc_with_text(2_000);
        let bytes = for_storage(&mut d, u64::MAX);
        assert_eq!(
            bytes,
            d.save_nocompress(),
            "a 2 KB document is stored without DEFLATE, whose per-column set-up costs more than it saves"
        );
        loads_as(&bytes, &mut d);
    }

    #[test]
    fn a_large_document_is_stored_compressed() {
        let mut d = doc_with_text(2 * COMPRESS_FROM);
        let bytes = for_storage(&mut d, u64::MAX);
        assert!(
            bytes.len() < d.save_nocompress().len() / 2,
            "a repetitive document over the threshold is stored compressed ({} bytes)",
            bytes.len()
        );
        loads_as(&bytes, &mut d);
    }

    #[test]
    fn a_small_document_over_the_size_limit_is_judged_compressed() {
        let mut d = doc_with_text(2_000);
        let plain = d.save_nocompress().len() as u64;
        let bytes = for_storage(&mut d, plain - 1);
        assert_eq!(
            bytes,
            d.save(),
            "a document the limit would refuse uncompressed is measured compressed, as before"
        );
        loads_as(&bytes, &mut d);
    }
}
