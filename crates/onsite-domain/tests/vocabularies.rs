//! The typed vocabularies that cross to the UI agree with the JSON they describe: a conflict's and
//! a missing entry's `code` tag is exactly its kind's serde name, so the UI's generated
//! `ConflictKind` and `MissingKind` types match what it receives.

use onsite_domain::completion::Missing;
use onsite_domain::order::DispatchStatus;
use onsite_domain::status::Conflict;

fn tag(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).expect("serialises")["code"].clone()
}

#[test]
fn conflict_kinds_are_the_code_tags_of_conflicts() {
    let t = || "t".to_owned();
    let all = [
        Conflict::CancelledButCompleted { technician_id: t() },
        Conflict::StoppedWhileOnSite {
            technician_id: t(),
            status: DispatchStatus::OnHold,
        },
        Conflict::ReassignedWhileOnSite {
            previous: t(),
            current: None,
        },
        Conflict::CompletedByPreviousAssignee {
            technician_id: t(),
            current: None,
        },
        Conflict::MultipleCompletions {
            technician_ids: vec![t()],
        },
        Conflict::ModifiedAfterSigning {
            technician_id: t(),
            sections: vec![],
        },
    ];
    for c in &all {
        let kind = serde_json::to_value(c.code()).unwrap();
        assert_eq!(tag(c), kind, "{c:?}: the tag and the kind agree");
        assert_eq!(kind, c.code().as_str(), "{c:?}: as_str is the serde name");
    }
}

#[test]
fn missing_kinds_are_the_code_tags_of_missing_entries() {
    let (t, i) = (|| "t".to_owned(), || "i".to_owned());
    let all = [
        Missing::WorkNotDone,
        Missing::ItemUnanswered {
            template_id: t(),
            item_id: i(),
        },
        Missing::ReadingOutOfRange {
            template_id: t(),
            item_id: i(),
        },
        Missing::ItemInvalid {
            template_id: t(),
            item_id: i(),
        },
        Missing::PhotoMissing {
            template_id: t(),
            item_id: i(),
        },
        Missing::HomeCheckMissing,
        Missing::ConfirmationMissing { item_id: i() },
        Missing::RatingMissing,
        Missing::SignatureMissing,
        Missing::TemplateMissing {
            template_id: t(),
            version: 1,
        },
    ];
    for m in &all {
        assert_eq!(
            tag(m),
            serde_json::to_value(m.kind()).unwrap(),
            "{m:?}: the tag and the kind agree"
        );
    }
}
