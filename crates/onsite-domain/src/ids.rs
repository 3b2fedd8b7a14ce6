//! Document ids. One id names one Automerge document; its prefix says what kind of document it is
//! and so who owns it, which is what per-document access control keys on.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// The id of one document. Text form: `order:<order-id>`, `visit:<order-id>:<technician-id>`,
/// `ref:templates`, `ref:fees`, `ref:parts`, `profile:<technician-id>`, `ledger:<technician-id>`,
/// `household:<household-id>`, `ref:service`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocId {
    Order(String),
    Visit {
        order_id: String,
        technician_id: String,
    },
    Templates,
    FeeSchedule,
    PartsCatalogue,
    Profile(String),
    Ledger(String),
    // registry: the customer registry, one document per household.
    Household(String),
    // followups: the centre's service settings (`ref:service`, `crate::service`).
    ServiceSettings,
    // stats: the centre's performance-bonus formula (`ref:bonus`).
    Bonus,
}

/// Which kind of document an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    Order,
    Visit,
    Reference,
    Profile,
    Ledger,
    // registry:
    Household,
}

impl DocId {
    pub fn kind(&self) -> DocKind {
        match self {
            DocId::Order(_) => DocKind::Order,
            DocId::Visit { .. } => DocKind::Visit,
            DocId::Templates | DocId::FeeSchedule | DocId::PartsCatalogue => DocKind::Reference,
            DocId::Profile(_) => DocKind::Profile,
            DocId::Ledger(_) => DocKind::Ledger,
            DocId::Household(_) => DocKind::Household,
            DocId::ServiceSettings => DocKind::Reference,
            DocId::Bonus => DocKind::Reference,
        }
    }

    pub fn visit(order_id: &str, technician_id: &str) -> Self {
        DocId::Visit {
            order_id: order_id.to_owned(),
            technician_id: technician_id.to_owned(),
        }
    }
}

fn valid_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocId::Order(id) => write!(f, "order:{id}"),
            DocId::Visit {
                order_id,
                technician_id,
            } => write!(f, "visit:{order_id}:{technician_id}"),
            DocId::Templates => f.write_str("ref:templates"),
            DocId::FeeSchedule => f.write_str("ref:fees"),
            DocId::PartsCatalogue => f.write_str("ref:parts"),
            DocId::Profile(id) => write!(f, "profile:{id}"),
            DocId::Ledger(id) => write!(f, "ledger:{id}"),
            DocId::Household(id) => write!(f, "household:{id}"),
            DocId::ServiceSettings => f.write_str("ref:service"),
            DocId::Bonus => f.write_str("ref:bonus"),
        }
    }
}

impl FromStr for DocId {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::BadDocId(s.chars().take(80).collect());
        let mut parts = s.split(':');
        let head = parts.next().ok_or_else(bad)?;
        let rest: Vec<&str> = parts.collect();
        if !rest.iter().all(|p| valid_part(p)) {
            return Err(bad());
        }
        match (head, rest.as_slice()) {
            ("order", [id]) => Ok(DocId::Order((*id).to_owned())),
            ("visit", [order, tech]) => Ok(DocId::visit(order, tech)),
            ("ref", ["templates"]) => Ok(DocId::Templates),
            ("ref", ["fees"]) => Ok(DocId::FeeSchedule),
            ("ref", ["parts"]) => Ok(DocId::PartsCatalogue),
            ("profile", [id]) => Ok(DocId::Profile((*id).to_owned())),
            ("ledger", [id]) => Ok(DocId::Ledger((*id).to_owned())),
            ("household", [id]) => Ok(DocId::Household((*id).to_owned())),
            ("ref", ["service"]) => Ok(DocId::ServiceSettings),
            ("ref", ["bonus"]) => Ok(DocId::Bonus),
            _ => Err(bad()),
        }
    }
}

impl serde::Serialize for DocId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for DocId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether `s` is usable as one segment of a [`DocId`] (order id, technician id, …).
pub fn is_valid_id(s: &str) -> bool {
    valid_part(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_ids_round_trip_through_text() {
        for id in [
            DocId::Order("o-1".into()),
            DocId::visit("o-1", "tech.a"),
            DocId::Templates,
            DocId::FeeSchedule,
            DocId::PartsCatalogue,
            DocId::Profile("tech.a".into()),
            DocId::Ledger("tech.a".into()),
            DocId::Household("hh-1".into()),
            DocId::Bonus,
        ] {
            let text = id.to_string();
            assert_eq!(text.parse::<DocId>().unwrap(), id, "{text} must parse back");
        }
    }

    #[test]
    fn malformed_doc_ids_are_refused_with_a_code() {
        for bad in [
            "",
            "order",
            "order:",
            "visit:o-1",
            "ref:other",
            "order:a b",
            "order:x:y",
            "nope:1",
            "household:",
            "household:a:b",
        ] {
            let err = bad.parse::<DocId>().unwrap_err();
            assert_eq!(err.code(), "document.bad_id", "'{bad}' must be refused");
        }
    }
}
