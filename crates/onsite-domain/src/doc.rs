//! Typed access to Automerge documents: create a document from a value, read it back, write a
//! changed value as a minimal set of operations. Errors are [`DomainError`]s with stable codes.

use automerge::AutoCommit;
use autosurgeon::{Hydrate, Reconcile};

use crate::DomainError;
use crate::doc_reader::Reader;

/// Create a new document holding `value`.
pub fn create<T: Reconcile>(value: &T) -> Result<AutoCommit, DomainError> {
    let mut doc = AutoCommit::new();
    write(&mut doc, value)?;
    Ok(doc)
}

/// Read the whole document as `T` (each object read once: [`Reader`]).
pub fn read<T: Hydrate>(doc: &AutoCommit) -> Result<T, DomainError> {
    autosurgeon::hydrate(&Reader::new(doc)).map_err(|e| DomainError::Hydrate(e.to_string()))
}

/// Write `value` into the document as the difference from what it holds, and commit it as one
/// change (so a clone or a save never splits or duplicates an edit). No change is made when the
/// value is unchanged.
pub fn write<T: Reconcile>(doc: &mut AutoCommit, value: &T) -> Result<(), DomainError> {
    if let Err(e) = autosurgeon::reconcile(doc, value) {
        doc.rollback();
        return Err(DomainError::Reconcile(e.to_string()));
    }
    doc.commit();
    Ok(())
}

/// Load a saved document (snapshot or concatenated changes), refusing damaged bytes.
pub fn load(bytes: &[u8]) -> Result<AutoCommit, DomainError> {
    AutoCommit::load(bytes).map_err(|e| DomainError::CorruptDocument(e.to_string()))
}

/// The `schema` field of a document's root, checked against what this build understands.
pub fn check_schema(doc: &AutoCommit, supported: u32) -> Result<(), DomainError> {
    use automerge::ReadDoc;
    let found = match doc.get(automerge::ROOT, "schema") {
        Ok(Some((automerge::Value::Scalar(s), _))) => match s.as_ref() {
            automerge::ScalarValue::Uint(n) => *n as u32,
            automerge::ScalarValue::Int(n) => *n as u32,
            _ => return Err(DomainError::Hydrate("schema is not a number".into())),
        },
        Ok(_) => return Err(DomainError::Hydrate("document has no schema field".into())),
        Err(e) => return Err(DomainError::CorruptDocument(e.to_string())),
    };
    if found > supported {
        return Err(DomainError::SchemaTooNew { found, supported });
    }
    Ok(())
}
