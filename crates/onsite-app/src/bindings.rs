//! TypeScript declarations for everything in [`crate::view`], generated with ts-rs. The committed
//! copy lives in `ui/src/lib/generated/`; the test `bindings_are_fresh` fails when it is stale and
//! `UPDATE_BINDINGS=1 cargo test -p onsite-app bindings` rewrites it. Types of `onsite-domain` that
//! cross as they are (`Code`, `Tier`, `ServiceType`, `EffectiveStatus`, `CheckResult`,
//! `MissingKind`, `ConflictKind`) derive `TS` there and are written here too.

use std::path::{Path, PathBuf};

use ts_rs::TS;

use crate::view::*;

/// Where the UI keeps the generated declarations, relative to this crate.
pub fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/generated")
}

/// Write one `.ts` file per type into `dir`.
pub fn export_to(dir: &Path) -> Result<(), ts_rs::ExportError> {
    SignInRequest::export_all_to(dir)?;
    Session::export_all_to(dir)?;
    SignInForm::export_all_to(dir)?;
    SignOutView::export_all_to(dir)?;
    HandoverLock::export_all_to(dir)?;
    DraftRequest::export_all_to(dir)?;
    DraftView::export_all_to(dir)?;
    Today::export_all_to(dir)?;
    OrderList::export_all_to(dir)?;
    OrderDetail::export_all_to(dir)?;
    EditRequest::export_all_to(dir)?;
    PhotoRequest::export_all_to(dir)?;
    SignRequest::export_all_to(dir)?;
    CertificateView::export_all_to(dir)?;
    SavedRecordView::export_all_to(dir)?;
    ExportRequest::export_all_to(dir)?;
    SavedExportView::export_all_to(dir)?;
    FeeScheduleView::export_all_to(dir)?;
    PartsView::export_all_to(dir)?;
    StockUseRequest::export_all_to(dir)?;
    StockAfterUseView::export_all_to(dir)?;
    SyncStatus::export_all_to(dir)?;
    Settings::export_all_to(dir)?;
    CommandError::export_all_to(dir)?;
    EventName::export_all_to(dir)?;
    // dispatch: parts issue and return, suggestion reasons
    StockMoveRequest::export_all_to(dir)?;
    FaultyReturnRequest::export_all_to(dir)?;
    TechnicianStockView::export_all_to(dir)?;
    StockOverview::export_all_to(dir)?;
    onsite_domain::suggest::Reason::export_all_to(dir)?;
    onsite_domain::reference::NotQualified::export_all_to(dir)?;
    // registry:
    CustomerSearch::export_all_to(dir)?;
    HistoryWindowView::export_all_to(dir)?;
    HistorySearchRequest::export_all_to(dir)?;
    HistorySearchView::export_all_to(dir)?;
    FetchedView::export_all_to(dir)?;
    ContactRequest::export_all_to(dir)?;
    ApplianceRequest::export_all_to(dir)?;
    HouseholdView::export_all_to(dir)?;
    ImportSource::export_all_to(dir)?;
    ImportPreview::export_all_to(dir)?;
    ImportCommitRequest::export_all_to(dir)?;
    ImportResult::export_all_to(dir)?;
    // console: the dispatcher console's views.
    RoleView::export_all_to(dir)?;
    BoardView::export_all_to(dir)?;
    SlaPreview::export_all_to(dir)?;
    NewOrderRequest::export_all_to(dir)?;
    EditOrderRequest::export_all_to(dir)?;
    CustomerMatch::export_all_to(dir)?;
    DispatchOrderView::export_all_to(dir)?;
    PickerView::export_all_to(dir)?;
    SuggestionView::export_all_to(dir)?;
    // conflicts: the review queue, its decisions and the technician's view of them.
    ConflictQueueView::export_all_to(dir)?;
    ResolveConflictRequest::export_all_to(dir)?;
    OrderConflictView::export_all_to(dir)?;
    CompletionList::export_all_to(dir)?;
    // profiles: the Technicians screen.
    TechniciansView::export_all_to(dir)?;
    ProfileEditRequest::export_all_to(dir)?;
    CertificateActionRequest::export_all_to(dir)?;
    // followups: the Follow-ups and Reminders screens.
    FollowUpsView::export_all_to(dir)?;
    FollowUpAnswerRequest::export_all_to(dir)?;
    ResolveComplaintRequest::export_all_to(dir)?;
    RemindersView::export_all_to(dir)?;
    ReminderActionRequest::export_all_to(dir)?;
    ServiceSettingsView::export_all_to(dir)?;
    ServiceSettingsRequest::export_all_to(dir)?;
    // stats: the Statistics and Scorecard screens.
    StatsRequest::export_all_to(dir)?;
    StatisticsView::export_all_to(dir)?;
    ScorecardView::export_all_to(dir)?;
    BonusFormulaRequest::export_all_to(dir)?;
    StatsExportRequest::export_all_to(dir)?;
    // Every error code, also those no command returns today (the UI's tables cover them all), and
    // the conflict kinds the dispatcher's screens will list.
    onsite_domain::Code::export_all_to(dir)?;
    onsite_domain::status::ConflictKind::export_all_to(dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;

    use super::*;

    fn read_dir(dir: &Path) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".ts") {
                out.insert(name, fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        out
    }

    #[test]
    fn bindings_are_fresh() {
        let committed = committed_dir();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            for name in read_dir(&committed).keys() {
                fs::remove_file(committed.join(name)).expect("remove stale binding");
            }
            export_to(&committed).expect("write bindings");
        }
        let tmp = tempfile::tempdir().expect("temp dir");
        export_to(tmp.path()).expect("generate bindings");
        let fresh = read_dir(tmp.path());
        let current = read_dir(&committed);
        assert!(!fresh.is_empty(), "ts-rs must generate declarations");
        assert_eq!(
            fresh.keys().collect::<Vec<_>>(),
            current.keys().collect::<Vec<_>>(),
            "ui/src/lib/generated is stale: run `UPDATE_BINDINGS=1 cargo test -p onsite-app bindings` and commit"
        );
        for (name, text) in &fresh {
            assert_eq!(
                Some(text),
                current.get(name),
                "ui/src/lib/generated/{name} is stale: run `UPDATE_BINDINGS=1 cargo test -p onsite-app bindings` and commit"
            );
        }
    }
}
