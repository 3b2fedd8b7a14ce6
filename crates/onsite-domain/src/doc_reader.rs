//! Reading a whole document for hydration with one pass over each object. Hydrating a type
//! reads its fields one `get` at a time, and each `get` seeks through Automerge's columns again:
//! an order's ~50 fields cost ~80 µs that way. [`Reader`] reads each map (`map_range`) and each
//! list (`list_range`) once, on first use, and answers the `get`s from that: the same values —
//! the visible value of each key and each list element, as `get` gives them — in ~30 µs.
//! Everything else is the document's own answer.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::RangeBounds;
use std::rc::Rc;

use automerge::{self as am, AutoCommit, AutomergeError, ObjId, ObjType, Prop, ReadDoc, Value};

/// A value and its object id, as `get` answers.
type Entry = (Value<'static>, ObjId);

/// The keys of a map (sorted; borrowed from the document where it can) or the elements of a
/// list, read once.
enum Object<'a> {
    Map(Vec<(Cow<'a, str>, Entry)>),
    List(Vec<Entry>),
}

/// A read-only view of a document for [`autosurgeon::hydrate`] that reads each object once.
pub struct Reader<'a> {
    doc: &'a AutoCommit,
    read: RefCell<Vec<(ObjId, Rc<Object<'a>>)>>,
}

impl<'a> Reader<'a> {
    pub fn new(doc: &'a AutoCommit) -> Reader<'a> {
        Reader {
            doc,
            read: RefCell::new(Vec::new()),
        }
    }

    /// Object `obj` as read, reading it now if it was not (`None`: not a map or list).
    fn object(&self, obj: &ObjId) -> Result<Option<Rc<Object<'a>>>, AutomergeError> {
        if let Some((_, o)) = self.read.borrow().iter().find(|(id, _)| id == obj) {
            return Ok(Some(Rc::clone(o)));
        }
        let object = match self.doc.object_type(obj)? {
            ObjType::Map | ObjType::Table => {
                let doc: &'a AutoCommit = self.doc;
                let mut keys: Vec<(Cow<'a, str>, Entry)> = doc
                    .map_range(obj, ..)
                    .map(|i| {
                        let entry = (i.value.clone().into_value(), i.id());
                        (i.key, entry)
                    })
                    .collect();
                keys.sort_by(|a, b| a.0.cmp(&b.0));
                Object::Map(keys)
            }
            ObjType::List => Object::List(
                self.doc
                    .list_range(obj, ..)
                    .map(|i| (i.value.clone().into_value(), i.id()))
                    .collect(),
            ),
            ObjType::Text => return Ok(None),
        };
        let object = Rc::new(object);
        self.read
            .borrow_mut()
            .push((obj.clone(), Rc::clone(&object)));
        Ok(Some(object))
    }
}

impl autosurgeon::ReadDoc for Reader<'_> {
    type Parents<'b>
        = am::Parents<'b>
    where
        Self: 'b;

    fn get_heads(&self) -> Vec<am::ChangeHash> {
        autosurgeon::ReadDoc::get_heads(self.doc)
    }

    fn get<P: Into<Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        let prop = prop.into();
        let found = match (self.object(obj)?.as_deref(), &prop) {
            (Some(Object::Map(keys)), Prop::Map(key)) => keys
                .binary_search_by(|(k, _)| k.as_ref().cmp(key.as_str()))
                .ok()
                .map(|i| keys[i].1.clone()),
            (Some(Object::List(items)), Prop::Seq(i)) => items.get(*i).cloned(),
            // A text, or a key of the other kind: the document answers.
            _ => return ReadDoc::get(self.doc, obj, prop),
        };
        Ok(found)
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        ReadDoc::object_type(self.doc, obj).ok()
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> am::iter::MapRange<'b>
    where
        R: RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
        R: RangeBounds<String>,
    {
        ReadDoc::map_range(self.doc, obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> am::iter::ListRange<'_> {
        ReadDoc::list_range(self.doc, obj, range)
    }

    /// A map's visible keys or a list's visible elements, as read (hydrating a list asks its
    /// length first); a text's from the document.
    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        match self.object(obj.as_ref()).ok().flatten().as_deref() {
            Some(Object::Map(keys)) => keys.len(),
            Some(Object::List(items)) => items.len(),
            None => ReadDoc::length(self.doc, obj),
        }
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        ReadDoc::text(self.doc, obj)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        ReadDoc::parents(self.doc, obj)
    }

    fn is_empty(&self) -> bool {
        autosurgeon::ReadDoc::is_empty(self.doc)
    }
}
