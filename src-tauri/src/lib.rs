//! The Onsite technician app's Tauri shell: opens the device store in the platform's app-data
//! directory, starts the background sync task, forwards its status to the window as events, and
//! registers one command per [`onsite_app::App`] method — each a one-line delegation.

use std::sync::Arc;

use onsite_app::App;
use onsite_app::view::*;
use tauri::{Emitter, Manager, Runtime, State};

type AppState<'a> = State<'a, Arc<App>>;
type Reply<T> = Result<T, CommandError>;

#[tauri::command]
async fn sign_in(app: AppState<'_>, request: SignInRequest) -> Reply<Session> {
    app.sign_in(request).await.map_err(Into::into)
}

#[tauri::command]
fn session(app: AppState<'_>) -> Reply<Option<Session>> {
    app.session().map_err(Into::into)
}

#[tauri::command]
fn sign_in_form(app: AppState<'_>) -> Reply<SignInForm> {
    app.sign_in_form().map_err(Into::into)
}

#[tauri::command]
async fn sign_out(app: AppState<'_>) -> Reply<SignOutView> {
    app.sign_out().await.map_err(Into::into)
}

#[tauri::command]
fn today(app: AppState<'_>) -> Reply<Today> {
    app.today().map_err(Into::into)
}

#[tauri::command]
fn upcoming(app: AppState<'_>) -> Reply<OrderList> {
    app.upcoming().map_err(Into::into)
}

#[tauri::command]
fn search_orders(app: AppState<'_>, query: String) -> Reply<OrderList> {
    app.search_orders(&query).map_err(Into::into)
}

#[tauri::command]
fn save_draft(app: AppState<'_>, request: DraftRequest) -> Reply<()> {
    app.save_draft(request).map_err(Into::into)
}

#[tauri::command]
fn drafts(app: AppState<'_>, order_id: String) -> Reply<Vec<DraftView>> {
    app.drafts(&order_id).map_err(Into::into)
}

#[tauri::command]
fn discard_draft(app: AppState<'_>, order_id: String, field: DraftField) -> Reply<()> {
    app.discard_draft(&order_id, field).map_err(Into::into)
}

#[tauri::command]
fn handover_lock(app: AppState<'_>) -> Reply<HandoverLock> {
    app.handover_lock().map_err(Into::into)
}

#[tauri::command]
fn lock_handover(app: AppState<'_>, order_id: String) -> Reply<HandoverLock> {
    app.lock_handover(&order_id).map_err(Into::into)
}

#[tauri::command]
fn unlock_handover(app: AppState<'_>) -> Reply<HandoverLock> {
    app.unlock_handover().map_err(Into::into)
}

#[tauri::command]
fn order_detail(app: AppState<'_>, order_id: String) -> Reply<OrderDetail> {
    app.order_detail(&order_id).map_err(Into::into)
}

#[tauri::command]
fn apply_edit(app: AppState<'_>, order_id: String, edit: EditRequest) -> Reply<OrderDetail> {
    app.apply_edit(&order_id, edit).map_err(Into::into)
}

#[tauri::command]
fn add_photo(app: AppState<'_>, request: PhotoRequest) -> Reply<OrderDetail> {
    app.add_photo(request).map_err(Into::into)
}

#[tauri::command]
fn sign(app: AppState<'_>, request: SignRequest) -> Reply<OrderDetail> {
    app.sign(request).map_err(Into::into)
}

/// `technician_id`: omitted by the technician app (their own record); named by the console.
#[tauri::command]
async fn record_html(
    app: AppState<'_>,
    order_id: String,
    technician_id: Option<String>,
    language: String,
) -> Reply<String> {
    app.record_html(&order_id, technician_id.as_deref(), &language)
        .await
        .map_err(Into::into)
}

#[tauri::command]
async fn save_record_pdf(
    app: AppState<'_>,
    order_id: String,
    technician_id: Option<String>,
    language: String,
) -> Reply<SavedRecordView> {
    app.save_record_pdf(&order_id, technician_id.as_deref(), &language)
        .await
        .map_err(Into::into)
}

#[tauri::command]
fn export_table(app: AppState<'_>, request: ExportRequest) -> Reply<SavedExportView> {
    app.export_table(request).map_err(Into::into)
}

#[tauri::command]
fn certificate(app: AppState<'_>) -> Reply<CertificateView> {
    app.certificate().map_err(Into::into)
}

#[tauri::command]
fn fee_schedule(app: AppState<'_>) -> Reply<FeeScheduleView> {
    app.fee_schedule().map_err(Into::into)
}

#[tauri::command]
fn parts_and_stock(app: AppState<'_>) -> Reply<PartsView> {
    app.parts_and_stock().map_err(Into::into)
}

#[tauri::command]
fn stock_after_use(app: AppState<'_>, request: StockUseRequest) -> Reply<StockAfterUseView> {
    app.stock_after_use(request).map_err(Into::into)
}

#[tauri::command]
fn sync_status(app: AppState<'_>) -> Reply<SyncStatus> {
    app.sync_status().map_err(Into::into)
}

#[tauri::command]
fn sync_now(app: AppState<'_>) -> Reply<SyncStatus> {
    app.sync_now().map_err(Into::into)
}

#[tauri::command]
fn settings(app: AppState<'_>) -> Reply<Settings> {
    app.settings().map_err(Into::into)
}

#[tauri::command]
fn set_language(app: AppState<'_>, language: String) -> Reply<Settings> {
    app.set_language(&language).map_err(Into::into)
}

// dispatch: parts issue and return (the dispatcher's side)
#[tauri::command]
fn issue_parts(app: AppState<'_>, request: StockMoveRequest) -> Reply<TechnicianStockView> {
    app.issue_parts(request).map_err(Into::into)
}

#[tauri::command]
fn return_parts(app: AppState<'_>, request: StockMoveRequest) -> Reply<TechnicianStockView> {
    app.return_parts(request).map_err(Into::into)
}

#[tauri::command]
fn adjust_stock(app: AppState<'_>, request: StockMoveRequest) -> Reply<TechnicianStockView> {
    app.adjust_stock(request).map_err(Into::into)
}

#[tauri::command]
fn return_faulty_part(
    app: AppState<'_>,
    request: FaultyReturnRequest,
) -> Reply<TechnicianStockView> {
    app.return_faulty_part(request).map_err(Into::into)
}

#[tauri::command]
fn technician_stock(app: AppState<'_>, technician_id: String) -> Reply<TechnicianStockView> {
    app.technician_stock(&technician_id).map_err(Into::into)
}

#[tauri::command]
fn stock_overview(app: AppState<'_>) -> Reply<StockOverview> {
    app.stock_overview().map_err(Into::into)
}

// stats: the console's Statistics and Scorecard screens.
#[tauri::command]
fn statistics(app: AppState<'_>, request: StatsRequest) -> Reply<StatisticsView> {
    app.statistics(request).map_err(Into::into)
}

#[tauri::command]
fn scorecard(app: AppState<'_>, request: StatsRequest) -> Reply<ScorecardView> {
    app.scorecard(request).map_err(Into::into)
}

#[tauri::command]
fn save_bonus_formula(app: AppState<'_>, request: BonusFormulaRequest) -> Reply<BonusFormulaView> {
    app.save_bonus_formula(request).map_err(Into::into)
}

#[tauri::command]
fn export_statistics(app: AppState<'_>, request: StatsExportRequest) -> Reply<SavedExportView> {
    app.export_statistics(request).map_err(Into::into)
}

// profiles: the console's Technicians screen.
#[tauri::command]
fn technicians(app: AppState<'_>) -> Reply<TechniciansView> {
    app.technicians().map_err(Into::into)
}

#[tauri::command]
fn save_profile(app: AppState<'_>, request: ProfileEditRequest) -> Reply<TechniciansView> {
    app.save_profile(request).map_err(Into::into)
}

#[tauri::command]
fn withdraw_certificate(
    app: AppState<'_>,
    request: CertificateActionRequest,
) -> Reply<TechniciansView> {
    app.withdraw_certificate(request).map_err(Into::into)
}

#[tauri::command]
fn reinstate_certificate(
    app: AppState<'_>,
    request: CertificateActionRequest,
) -> Reply<TechniciansView> {
    app.reinstate_certificate(request).map_err(Into::into)
}

// registry: the customer registry and the CSV order import.

#[tauri::command]
fn search_customers(app: AppState<'_>, query: String) -> Reply<CustomerSearch> {
    app.search_customers(&query).map_err(Into::into)
}

#[tauri::command]
fn household(app: AppState<'_>, household_id: String) -> Reply<HouseholdView> {
    app.household(&household_id).map_err(Into::into)
}

#[tauri::command]
async fn search_history(
    app: AppState<'_>,
    request: HistorySearchRequest,
) -> Reply<HistorySearchView> {
    app.search_history(request).await.map_err(Into::into)
}

#[tauri::command]
async fn fetch_history(app: AppState<'_>, docs: Vec<String>) -> Reply<FetchedView> {
    app.fetch_history(docs).await.map_err(Into::into)
}

#[tauri::command]
fn history_window(app: AppState<'_>) -> Reply<HistoryWindowView> {
    app.history_window().map_err(Into::into)
}

#[tauri::command]
fn set_history_window(app: AppState<'_>, days: u32) -> Reply<HistoryWindowView> {
    app.set_history_window(days)
        .and_then(|()| app.history_window())
        .map_err(Into::into)
}

#[tauri::command]
fn create_household(app: AppState<'_>, request: ContactRequest) -> Reply<HouseholdView> {
    app.create_household(request).map_err(Into::into)
}

#[tauri::command]
fn update_household(
    app: AppState<'_>,
    household_id: String,
    request: ContactRequest,
) -> Reply<HouseholdView> {
    app.update_household(&household_id, request)
        .map_err(Into::into)
}

#[tauri::command]
fn save_appliance(
    app: AppState<'_>,
    household_id: String,
    request: ApplianceRequest,
) -> Reply<HouseholdView> {
    app.save_appliance(&household_id, request)
        .map_err(Into::into)
}

#[tauri::command]
fn import_preview(app: AppState<'_>, source: ImportSource) -> Reply<ImportPreview> {
    app.import_preview(source).map_err(Into::into)
}

#[tauri::command]
fn import_commit(app: AppState<'_>, request: ImportCommitRequest) -> Reply<ImportResult> {
    app.import_commit(request).map_err(Into::into)
}

// console: the dispatcher console's commands.

#[tauri::command]
fn board(app: AppState<'_>, offset_days: i32) -> Reply<BoardView> {
    app.board(offset_days).map_err(Into::into)
}

#[tauri::command]
fn sla_preview(app: AppState<'_>, tier: Tier) -> Reply<SlaPreview> {
    app.sla_preview(tier).map_err(Into::into)
}

#[tauri::command]
fn find_customers(app: AppState<'_>, query: String) -> Reply<Vec<CustomerMatch>> {
    app.find_customers(&query).map_err(Into::into)
}

#[tauri::command]
fn create_order(app: AppState<'_>, request: NewOrderRequest) -> Reply<DispatchOrderView> {
    app.create_order(request).map_err(Into::into)
}

#[tauri::command]
fn edit_order(app: AppState<'_>, request: EditOrderRequest) -> Reply<DispatchOrderView> {
    app.edit_order(request).map_err(Into::into)
}

#[tauri::command]
fn dispatch_order(app: AppState<'_>, order_id: String) -> Reply<DispatchOrderView> {
    app.dispatch_order(&order_id).map_err(Into::into)
}

#[tauri::command]
fn hold_order(app: AppState<'_>, order_id: String, reason: String) -> Reply<DispatchOrderView> {
    app.hold_order(&order_id, &reason).map_err(Into::into)
}

#[tauri::command]
fn cancel_order(app: AppState<'_>, order_id: String, reason: String) -> Reply<DispatchOrderView> {
    app.cancel_order(&order_id, &reason).map_err(Into::into)
}

#[tauri::command]
fn reopen_order(app: AppState<'_>, order_id: String, reason: String) -> Reply<DispatchOrderView> {
    app.reopen_order(&order_id, &reason).map_err(Into::into)
}

#[tauri::command]
fn assign_order(
    app: AppState<'_>,
    order_id: String,
    technician_id: String,
) -> Reply<DispatchOrderView> {
    app.assign_order(&order_id, &technician_id)
        .map_err(Into::into)
}

#[tauri::command]
fn reassign_order(
    app: AppState<'_>,
    order_id: String,
    technician_id: String,
    reason: String,
) -> Reply<DispatchOrderView> {
    app.reassign_order(&order_id, &technician_id, &reason)
        .map_err(Into::into)
}

#[tauri::command]
fn assignment_picker(app: AppState<'_>, order_id: String) -> Reply<PickerView> {
    app.assignment_picker(&order_id).map_err(Into::into)
}

#[tauri::command]
fn conflicts(app: AppState<'_>) -> Reply<ConflictQueueView> {
    app.conflicts().map_err(Into::into)
}

#[tauri::command]
fn resolve_conflict(
    app: AppState<'_>,
    request: ResolveConflictRequest,
) -> Reply<ConflictQueueView> {
    app.resolve_conflict(request).map_err(Into::into)
}

// followups: follow-up calls, complaints and maintenance reminders.
#[tauri::command]
fn follow_ups(app: AppState<'_>) -> Reply<FollowUpsView> {
    app.follow_ups().map_err(Into::into)
}

#[tauri::command]
fn record_follow_up(app: AppState<'_>, request: FollowUpAnswerRequest) -> Reply<FollowUpsView> {
    app.record_follow_up(request).map_err(Into::into)
}

#[tauri::command]
fn resolve_complaint(app: AppState<'_>, request: ResolveComplaintRequest) -> Reply<FollowUpsView> {
    app.resolve_complaint(request).map_err(Into::into)
}

#[tauri::command]
fn reminders(app: AppState<'_>) -> Reply<RemindersView> {
    app.reminders().map_err(Into::into)
}

#[tauri::command]
fn order_from_reminder(
    app: AppState<'_>,
    request: ReminderActionRequest,
) -> Reply<DispatchOrderView> {
    app.order_from_reminder(request).map_err(Into::into)
}

#[tauri::command]
fn dismiss_reminder(app: AppState<'_>, request: ReminderActionRequest) -> Reply<RemindersView> {
    app.dismiss_reminder(request).map_err(Into::into)
}

#[tauri::command]
fn service_settings(app: AppState<'_>) -> Reply<ServiceSettingsView> {
    app.service_settings().map_err(Into::into)
}

#[tauri::command]
fn save_service_settings(
    app: AppState<'_>,
    request: ServiceSettingsRequest,
) -> Reply<ServiceSettingsView> {
    app.save_service_settings(request).map_err(Into::into)
}

#[tauri::command]
fn completions(app: AppState<'_>) -> Reply<CompletionList> {
    app.completions().map_err(Into::into)
}

/// Register every command on `builder`.
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        sign_in,
        session,
        sign_in_form,
        sign_out,
        today,
        upcoming,
        search_orders,
        save_draft,
        drafts,
        discard_draft,
        handover_lock,
        lock_handover,
        unlock_handover,
        order_detail,
        apply_edit,
        add_photo,
        sign,
        record_html,
        save_record_pdf,
        export_table,
        certificate,
        fee_schedule,
        parts_and_stock,
        stock_after_use,
        sync_status,
        sync_now,
        settings,
        set_language,
        // dispatch: parts issue and return
        issue_parts,
        return_parts,
        adjust_stock,
        return_faulty_part,
        technician_stock,
        stock_overview,
        // registry:
        search_customers,
        household,
        search_history,
        fetch_history,
        history_window,
        set_history_window,
        create_household,
        update_household,
        save_appliance,
        import_preview,
        import_commit,
        // console:
        board,
        sla_preview,
        find_customers,
        create_order,
        edit_order,
        dispatch_order,
        hold_order,
        cancel_order,
        reopen_order,
        assign_order,
        reassign_order,
        assignment_picker,
        conflicts,
        resolve_conflict,
        completions,
        // profiles:
        technicians,
        save_profile,
        withdraw_certificate,
        reinstate_certificate,
        // followups:
        follow_ups,
        record_follow_up,
        resolve_complaint,
        reminders,
        order_from_reminder,
        dismiss_reminder,
        service_settings,
        save_service_settings,
        // stats:
        statistics,
        scorecard,
        save_bonus_formula,
        export_statistics,
    ])
}

/// Start syncing (if signed in) and forward sync status changes to the window for as long as the
/// app runs: `sync-status` with a [`SyncStatus`], and `documents-changed` after a sync.
pub fn forward_sync_events<R: Runtime>(handle: tauri::AppHandle<R>, app: Arc<App>) {
    tauri::async_runtime::spawn(async move {
        sign_in_from_env(&app).await;
        app.start_sync();
        loop {
            match app.subscribe_sync() {
                Some(mut rx) => {
                    let mut last_synced = None;
                    while rx.changed().await.is_ok() {
                        let synced = rx.borrow().last_synced_ms;
                        if let Ok(status) = app.sync_status() {
                            let _ = handle.emit(EventName::SyncStatus.as_str(), status);
                        }
                        if synced != last_synced {
                            last_synced = synced;
                            let _ = handle.emit(EventName::DocumentsChanged.as_str(), ());
                            // console: live completions for the dispatcher.
                            for c in app.take_new_completions().unwrap_or_default() {
                                let _ = handle.emit(EventName::OrderCompleted.as_str(), c);
                            }
                        }
                    }
                }
                None => app.sync_started().await,
            }
        }
    });
}

/// For the demo run: when nobody is signed in on this device and `ONSITE_RELAY_URL`,
/// `ONSITE_USER` and `ONSITE_PASSWORD` are set, sign in with them at start.
async fn sign_in_from_env(app: &App) {
    if matches!(app.session(), Ok(Some(_))) {
        return;
    }
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let (Some(relay_url), Some(user), Some(password)) = (
        var("ONSITE_RELAY_URL"),
        var("ONSITE_USER"),
        var("ONSITE_PASSWORD"),
    ) {
        let request = SignInRequest {
            relay_url,
            user,
            password,
            allow_plain_http: false,
        };
        if let Err(e) = app.sign_in(request).await {
            eprintln!("onsite: automatic sign-in failed ({}): {e}", e.code());
        }
    }
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    with_commands(tauri::Builder::default())
        .setup(|tauri_app| {
            let dir = tauri_app.path().app_data_dir()?;
            let mut app = App::open(&dir, onsite_app::system_clock())?.follow_relay_clock();
            // Saved record PDFs go where the technician looks for documents (~/Documents when
            // the desktop has no XDG documents folder configured).
            let paths = tauri_app.path();
            if let Ok(docs) = paths
                .document_dir()
                .or_else(|_| paths.home_dir().map(|h| h.join("Documents")))
            {
                app = app.with_export_dir(docs.join("Onsite"));
            }
            let app = Arc::new(app);
            forward_sync_events(tauri_app.handle().clone(), app.clone());
            tauri_app.manage(app);
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the Onsite app");
}
