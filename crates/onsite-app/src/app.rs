//! [`App`]: the device store, the sync client and one method per UI command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use onsite_client::{SharedStore, SyncConfig, SyncHandle, SyncState};
use onsite_domain::completion::{self, ChecklistProgress, Missing};
use onsite_domain::edit::VisitEdit;
use onsite_domain::history::ServiceEntry;
use onsite_domain::order::Order;
use onsite_domain::progress;
use onsite_domain::reference::{FeeSchedule, PartsCatalogue, TechnicianProfile, TemplateLibrary};
use onsite_domain::sla::{self, SlaPolicy};
use onsite_domain::visit::Visit;
use onsite_domain::{Code, DocId, HOUR, Millis};
use onsite_store::Store;

use crate::convert::*;
use crate::error::AppError;
use crate::view::*;

mod account;
// console: the dispatcher console's commands.
mod completions;
mod conflicts;
mod dispatch;
mod dispatch_read;
mod drafts;
// export: the console's tables as CSV and XLSX files.
mod export;
mod font;
// followups: follow-up calls, complaints and maintenance reminders.
mod followups;
mod handover;
mod reminders;
mod service;
// history: an appliance's service history, snapshotted into orders and merged on the device.
mod history;
mod import;
mod lists;
mod numbers;
mod parts;
mod registry;
mod replica;
// stats: the console's Statistics and Scorecard screens and their exports.
mod stats;
mod stats_export;
// profiles: the console's Technicians screen.
mod technicians;

pub use drafts::MAX_DRAFT_CHARS;
pub use export::{UTF8_BOM, csv_bytes, xlsx_bytes};
pub use import::{ImportError, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS};
pub use lists::SEARCH_LIMIT;
pub use parts::LOW_STOCK_THRESHOLD;
pub use stats::TREND_MONTHS;

/// Device time source; tests pass a fixed clock.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// Source of fresh ids for new list entries and events; tests pass a counter.
pub type IdSource = Arc<dyn Fn() -> String + Send + Sync>;

/// Random UUIDs (v4).
pub fn random_ids() -> IdSource {
    Arc::new(|| uuid::Uuid::new_v4().to_string())
}

/// The system clock in Unix milliseconds.
pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

const LANGUAGE_KEY: &str = "app.language";

/// Largest photo accepted from the camera or file input.
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;

/// The technician app: what every command runs against. Cheap to share (`Arc<App>`).
pub struct App {
    store: SharedStore,
    sync: Mutex<Option<SyncHandle>>,
    sync_started: tokio::sync::Notify,
    sync_config: SyncConfig,
    clock: Clock,
    /// The relay's clock offset, added to `clock` ([`App::follow_relay_clock`]).
    relay_clock: Option<onsite_client::RelayClock>,
    new_id: IdSource,
    /// Offset of the device's local time from UTC, used to find "today".
    utc_offset_ms: Millis,
    /// Where saved record PDFs and exported tables go.
    export_dir: PathBuf,
    /// console: SLA badges of the previous board, to raise an alert when an order gets worse.
    board_badges: Mutex<Option<BTreeMap<String, onsite_domain::sla::SlaBadge>>>,
}

fn lock(store: &SharedStore) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// The order `order_id`, or [`AppError::OrderNotFound`] when it is not on this device.
fn read_order(store: &Store, order_id: &str) -> Result<Order, AppError> {
    let oid = DocId::Order(order_id.to_owned());
    if !store.contains(&oid)? {
        return Err(AppError::OrderNotFound(order_id.to_owned()));
    }
    Ok(store.read(&oid)?)
}

impl App {
    /// Open (creating if needed) the device store in `data_dir`.
    pub fn open(data_dir: &Path, clock: Clock) -> Result<App, AppError> {
        let store = Store::open_in(data_dir)?;
        let offset = chrono::Local::now().offset().local_minus_utc() as Millis * 1000;
        Ok(App {
            store: Arc::new(Mutex::new(store)),
            sync: Mutex::new(None),
            sync_started: tokio::sync::Notify::new(),
            sync_config: SyncConfig::default(),
            clock,
            relay_clock: None,
            new_id: random_ids(),
            utc_offset_ms: offset,
            export_dir: data_dir.join("records"),
            board_badges: Mutex::new(None),
        })
    }

    /// Save record PDFs in `dir` (the shell passes the user's documents folder; the default is
    /// `records/` in the data folder).
    pub fn with_export_dir(mut self, dir: PathBuf) -> Self {
        self.export_dir = dir;
        self
    }

    /// Stamp what happens on this device with the relay's time: the device clock plus the offset
    /// the relay's answers showed (kept in the store, learned again at every sync). The shell
    /// does this; tests that fix the device's clock leave it off.
    pub fn follow_relay_clock(mut self) -> Self {
        let clock = onsite_client::RelayClock::new(self.clock.clone());
        self.relay_clock = Some(clock.loaded(&self.store));
        self
    }

    /// Use `config` for the background sync task started after this call.
    pub fn with_sync_config(mut self, config: SyncConfig) -> Self {
        self.sync_config = config;
        self
    }

    /// Name new list entries and events with `ids` (tests pass a counter for repeatable output).
    pub fn with_ids(mut self, ids: IdSource) -> Self {
        self.new_id = ids;
        self
    }

    /// Use a fixed UTC offset for "today" (tests, and devices whose zone is set by the company).
    pub fn with_utc_offset_minutes(mut self, minutes: i32) -> Self {
        self.utc_offset_ms = minutes as Millis * 60_000;
        self
    }

    /// The shared device store (for the shell's sync task and for tests).
    pub fn store(&self) -> &SharedStore {
        &self.store
    }

    fn now(&self) -> Millis {
        match &self.relay_clock {
            Some(c) => c.now(),
            None => (self.clock)(),
        }
    }

    fn technician(&self) -> Result<String, AppError> {
        match onsite_client::Session::load(&self.store)? {
            Some(s) => Ok(s.user_id),
            None => Err(AppError::NotSignedIn),
        }
    }

    // ------------------------------------------------------------------ session and sync

    /// Sign in at the relay, keep the session on the device and start syncing. Must run inside a
    /// tokio runtime (Tauri's async commands do).
    pub async fn sign_in(&self, req: SignInRequest) -> Result<Session, AppError> {
        let url = req.relay_url.trim().to_owned();
        if url.is_empty() || req.user.trim().is_empty() || req.password.is_empty() {
            return Err(AppError::Empty("relay URL, user and password"));
        }
        let transport = onsite_client::Transport {
            allow_plain_http: req.allow_plain_http,
            ..onsite_client::Transport::load(&self.store)?
        };
        let clock = self.relay_clock.clone().unwrap_or_default();
        let session = onsite_client::sign_in_with(
            &self.store,
            &transport,
            &url,
            &req.user,
            &req.password,
            &clock,
        )
        .await?;
        clock.reload(&self.store);
        self.remember_relay(&session.relay_url)?;
        self.stop_sync();
        self.start_sync();
        self.session()?.ok_or(AppError::NotSignedIn)
    }

    /// The session on this device, if anyone ever signed in here.
    pub fn session(&self) -> Result<Option<Session>, AppError> {
        let device_id = lock(&self.store).device_id().to_owned();
        Ok(onsite_client::Session::load(&self.store)?.map(|s| Session {
            technician_id: s.user_id,
            technician_name: s.display_name,
            unencrypted: onsite_client::unencrypted(&s.relay_url),
            relay_url: s.relay_url,
            device_id,
            role: dispatch_read::role_view(s.role),
        }))
    }

    /// Start the background sync task if a session exists and it is not running. Must run inside a
    /// tokio runtime. Returns whether a task is running afterwards.
    pub fn start_sync(&self) -> bool {
        let mut slot = self.sync.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            if !matches!(onsite_client::Session::load(&self.store), Ok(Some(_))) {
                return false;
            }
            let mut config = self.sync_config.clone();
            if let Some(c) = &self.relay_clock {
                config.clock = c.clone();
            }
            *slot = Some(onsite_client::spawn(self.store.clone(), config));
            self.sync_started.notify_one();
        }
        true
    }

    /// Resolves when a sync task has been started (after sign-in), for event forwarding.
    pub async fn sync_started(&self) {
        self.sync_started.notified().await;
    }

    pub fn stop_sync(&self) {
        if let Some(h) = self.sync.lock().unwrap_or_else(|p| p.into_inner()).take() {
            h.stop();
        }
    }

    /// A receiver of every sync status change, while the sync task runs.
    pub fn subscribe_sync(
        &self,
    ) -> Option<tokio::sync::watch::Receiver<onsite_client::SyncStatus>> {
        self.sync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(SyncHandle::subscribe)
    }

    /// The sync bar's state now.
    pub fn sync_status(&self) -> Result<SyncStatus, AppError> {
        let status = self
            .sync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(SyncHandle::status);
        Ok(match status {
            Some(s) => sync_view(&s),
            None => SyncStatus {
                online: false,
                pending_changes: lock(&self.store).pending_count()?.max(0) as u64,
                last_synced_ms: None,
                progress: None,
                last_error: None,
            },
        })
    }

    /// Ask the sync task to sync now.
    pub fn sync_now(&self) -> Result<SyncStatus, AppError> {
        if let Some(h) = self.sync.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            h.nudge();
        }
        self.sync_status()
    }

    fn nudge(&self) {
        if let Some(h) = self.sync.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            h.nudge();
        }
    }

    // ------------------------------------------------------------------ settings

    pub fn settings(&self) -> Result<Settings, AppError> {
        let lang = lock(&self.store).kv_get(LANGUAGE_KEY)?;
        Ok(Settings {
            language: lang.and_then(|b| String::from_utf8(b).ok()),
        })
    }

    /// Keep the UI language (`zh-CN` or `en`).
    pub fn set_language(&self, language: &str) -> Result<Settings, AppError> {
        let lang = match language {
            "zh-CN" | "en" => language,
            other => return Err(AppError::UnsupportedLanguage(other.to_owned())),
        };
        lock(&self.store).kv_set(LANGUAGE_KEY, lang.as_bytes())?;
        self.settings()
    }

    // ------------------------------------------------------------------ screens

    /// The Today screen: the technician's orders from yesterday to tomorrow (device local day),
    /// by schedule, with SLA badges evaluated now.
    pub fn today(&self) -> Result<Today, AppError> {
        let tech = self.technician()?;
        self.refuse_while_handing_over()?;
        let now = self.now();
        let day = 24 * HOUR;
        let day_start = self.local_day_start(now);
        let rows = lock(&self.store).today(&tech, day_start - day, day_start + 2 * day, now)?;
        Ok(Today {
            now_ms: now,
            orders: rows
                .iter()
                .map(|r| order_card_from_row(&r.order, r.sla.badge))
                .collect(),
        })
    }

    fn visit_or_preview(
        store: &Store,
        order: &Order,
        tech: &str,
        library: &TemplateLibrary,
    ) -> Result<(Visit, bool), AppError> {
        let vid = DocId::visit(&order.order_id, tech);
        if store.contains(&vid)? {
            let pending = store.doc_info(&vid)?.local_changes > 0;
            Ok((store.read::<Visit>(&vid)?, pending))
        } else {
            Ok((Visit::start(order, tech, library)?, false))
        }
    }

    /// Everything the job screens show for one order.
    pub fn order_detail(&self, order_id: &str) -> Result<OrderDetail, AppError> {
        let tech = self.technician()?;
        self.refuse_other_order(order_id)?;
        let now = self.now();
        let store = lock(&self.store);
        let order = read_order(&store, order_id)?;
        let library: TemplateLibrary = store.read(&DocId::Templates)?;
        let (visit, pending_sync) = Self::visit_or_preview(&store, &order, &tech, &library)?;
        let row = store.order_row(order_id)?;
        let report = sla::evaluate(
            order.created_at_ms,
            &order.sla,
            &visit.events,
            &SlaPolicy::PUBLISHED,
            now,
        );
        let mut card = order_card(&order, report.badge);
        if let Some(row) = &row {
            card.status = row.effective_status;
        }
        // history: per appliance, the order's snapshot merged with what this device knows.
        let mut past: BTreeMap<String, Vec<ServiceEntry>> = BTreeMap::new();
        for a in &order.appliances {
            past.insert(a.id.clone(), history::shown_for(&store, &order, &a.id)?);
        }
        let names = |t: &str| profile_name(&store, t);
        let own_conflicts = conflicts::order_conflicts(&order, &visit, &tech, &names);
        let refused = refusal_view(&store, &DocId::visit(order_id, &tech))?;
        drop(store);
        let mut d = detail(&order, &visit, &library, card, past, pending_sync, now);
        d.conflicts = own_conflicts;
        d.refused = refused;
        Ok(d)
    }

    fn apply(&self, order_id: &str, edit: VisitEdit) -> Result<OrderDetail, AppError> {
        let tech = self.technician()?;
        self.refuse_other_order(order_id)?;
        let now = self.now();
        {
            let mut store = lock(&self.store);
            if !store.contains(&DocId::Order(order_id.to_owned()))? {
                return Err(AppError::OrderNotFound(order_id.to_owned()));
            }
            store.start_visit(order_id, &tech)?;
            let committed = edit.clone();
            let result = store.apply_visit_edit(order_id, &tech, edit, now);
            if let Err(onsite_store::StoreError::Domain(onsite_domain::DomainError::Incomplete(
                missing,
            ))) = &result
            {
                let library: TemplateLibrary = store.read(&DocId::Templates)?;
                return Err(AppError::Incomplete(missing_views(missing, &library)));
            }
            result?;
            drafts::discard_committed(&mut store, order_id, &committed)?;
            if matches!(committed, VisitEdit::Sign { .. }) {
                handover::end(&mut store)?;
            }
        }
        self.nudge();
        self.order_detail(order_id)
    }

    /// Apply one edit from the UI at device time; ids of new entries are generated here.
    pub fn apply_edit(&self, order_id: &str, edit: EditRequest) -> Result<OrderDetail, AppError> {
        let edit = visit_edit(edit, || (self.new_id)())?;
        self.apply(order_id, edit)
    }

    /// Store a photo as an attachment and attach it to a checklist item.
    pub fn add_photo(&self, req: PhotoRequest) -> Result<OrderDetail, AppError> {
        let bytes = decode_base64(&req.bytes_base64)?;
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(AppError::PhotoTooLarge(bytes.len()));
        }
        let mime = photo_mime(&bytes)?;
        let sha = lock(&self.store).put_attachment(&bytes, mime)?;
        self.apply(
            &req.order_id,
            VisitEdit::AttachPhoto {
                template_id: req.template_id,
                item_id: req.item_id,
                sha256: sha,
            },
        )
    }

    /// The customer signs: the pad's PNG is normalised (blank pads refused), stored as an
    /// attachment, and the visit signed with its hash — which freezes the record.
    pub fn sign(&self, req: SignRequest) -> Result<OrderDetail, AppError> {
        let png = decode_base64(&req.png_base64)?;
        let normalised = onsite_record::normalise_signature(&png)?;
        // Check completeness before storing anything, so a refused signing leaves no attachment.
        self.check_ready(&req.order_id)?;
        let sha = lock(&self.store).put_attachment(&normalised.png, "image/png")?;
        debug_assert_eq!(sha, normalised.sha256);
        self.apply(
            &req.order_id,
            VisitEdit::Sign {
                event_id: (self.new_id)(),
                signer_name: req.signer_name,
                image_sha256: sha,
            },
        )
    }

    fn check_ready(&self, order_id: &str) -> Result<(), AppError> {
        let tech = self.technician()?;
        let store = lock(&self.store);
        let order = read_order(&store, order_id)?;
        let library: TemplateLibrary = store.read(&DocId::Templates)?;
        let (visit, _) = Self::visit_or_preview(&store, &order, &tech, &library)?;
        let missing = completion::missing_for_signing(&visit, &library);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AppError::Incomplete(missing_views(&missing, &library)))
        }
    }

    /// The signed service record as a standalone HTML page in `language` (`zh-CN` or `en`): the
    /// record `technician_id` signed on `order_id` ([`App::record_author`]: a technician passes
    /// `None` for their own, a dispatcher names one). The signature image is fetched from the
    /// relay when this device does not hold it yet (a dispatcher's device never does at first).
    pub async fn record_html(
        &self,
        order_id: &str,
        technician_id: Option<&str>,
        language: &str,
    ) -> Result<String, AppError> {
        let tech = self.record_author(technician_id)?;
        self.fetch_signature(order_id, &tech).await?;
        self.with_record(order_id, &tech, language, |input| {
            Ok(onsite_record::render_html(input)?)
        })
    }

    /// Render the signed record as a PDF in `language` and save it in the export folder (see
    /// [`App::with_export_dir`]) as `<order-no>-<hash prefix>-<language>.pdf`, for printing or
    /// sending to the customer. The file appears whole or not at all.
    pub async fn save_record_pdf(
        &self,
        order_id: &str,
        technician_id: Option<&str>,
        language: &str,
    ) -> Result<SavedRecordView, AppError> {
        let tech = self.record_author(technician_id)?;
        self.fetch_signature(order_id, &tech).await?;
        let font = font::record_font()?;
        let (pdf, order_no) = self.with_record(order_id, &tech, language, |input| {
            Ok((
                onsite_record::render_pdf(input, &font)?,
                input.order.order_no.clone(),
            ))
        })?;
        let lang = onsite_record::Lang::from_tag(language).tag();
        let file_name = format!("{order_no}-{}-{lang}.pdf", &pdf.hash[..12]);
        let path = export::save_atomically(&self.export_dir, &file_name, &pdf.bytes)?;
        Ok(SavedRecordView {
            path: path.display().to_string(),
            file_name,
            bytes: pdf.bytes.len() as u64,
            pages: pdf.pages as u32,
            record_hash: pdf.hash,
        })
    }

    /// Whose record to open: a technician only their own (`None` or their id); a dispatcher or
    /// admin must name the technician (an order may have several signed visits).
    fn record_author(&self, technician_id: Option<&str>) -> Result<String, AppError> {
        let session = onsite_client::Session::load(&self.store)?.ok_or(AppError::NotSignedIn)?;
        match (session.role, technician_id) {
            (onsite_wire::Role::Technician, None) => Ok(session.user_id),
            (onsite_wire::Role::Technician, Some(t)) if t == session.user_id => Ok(session.user_id),
            (onsite_wire::Role::Technician, Some(_)) => Err(AppError::DispatchersOnly),
            (_, None) => Err(AppError::Empty("technician whose record to open")),
            (_, Some(t)) => Ok(t.to_owned()),
        }
    }

    /// Make sure the signature image of `technician_id`'s signed visit on `order_id` is on this
    /// device, fetching it from the relay if not. Nothing to fetch when the visit is not signed
    /// (the record then answers `record.not_signed`).
    async fn fetch_signature(&self, order_id: &str, technician_id: &str) -> Result<(), AppError> {
        let sha = {
            let store = lock(&self.store);
            read_order(&store, order_id)?;
            let vid = DocId::visit(order_id, technician_id);
            if !store.contains(&vid)? {
                return Ok(());
            }
            let visit: Visit = store.read(&vid)?;
            match visit.signature {
                Some(sig) if !store.has_attachment(&sig.image_sha256)? => sig.image_sha256,
                _ => return Ok(()),
            }
        };
        let session = onsite_client::Session::load(&self.store)?.ok_or(AppError::NotSignedIn)?;
        let relay = onsite_client::Relay::for_device(&self.store, &session.relay_url)?;
        onsite_client::fetch_attachment(&self.store, &relay, &session, &sha).await?;
        Ok(())
    }

    /// Build the record input for the visit `tech` signed on `order_id` and hand it to `render`.
    fn with_record<T>(
        &self,
        order_id: &str,
        tech: &str,
        language: &str,
        render: impl FnOnce(&onsite_record::RecordInput<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let relay_url = onsite_client::Session::load(&self.store)?
            .map(|s| s.relay_url)
            .unwrap_or_default();
        let (order, library, fees, visit, png) = {
            let store = lock(&self.store);
            let order = read_order(&store, order_id)?;
            let library: TemplateLibrary = store.read(&DocId::Templates)?;
            // The company named on the record is the one publishing the fee schedule.
            let fees: FeeSchedule = store.read(&DocId::FeeSchedule)?;
            let vid = DocId::visit(order_id, tech);
            if !store.contains(&vid)? {
                return Err(AppError::NotSigned);
            }
            let visit: Visit = store.read(&vid)?;
            let Some(sig) = &visit.signature else {
                return Err(AppError::NotSigned);
            };
            let png = store.attachment(&sig.image_sha256)?.bytes;
            (order, library, fees, visit, png)
        };
        render(&onsite_record::RecordInput {
            order: &order,
            visit: &visit,
            library: &library,
            signature_png: &png,
            company: &fees.company,
            relay_base_url: &relay_url,
            lang: onsite_record::Lang::from_tag(language),
            utc_offset_minutes: (self.utc_offset_ms / 60_000) as i32,
        })
    }

    /// The technician's certificate (一证件) with a QR code to scan.
    pub fn certificate(&self) -> Result<CertificateView, AppError> {
        let tech = self.technician()?;
        let profile: TechnicianProfile = lock(&self.store).read(&DocId::Profile(tech))?;
        let signed_url = onsite_client::Session::load(&self.store)?
            .and_then(|s| s.certificate_url(&profile.certificate_id));
        certificate_view(&profile, self.now(), signed_url)
    }

    /// The published fee schedule (二公开).
    pub fn fee_schedule(&self) -> Result<FeeScheduleView, AppError> {
        let fees: FeeSchedule = lock(&self.store).read(&DocId::FeeSchedule)?;
        Ok(fee_schedule_view(&fees))
    }

    /// The parts catalogue with the technician's personal stock on hand.
    pub fn parts_and_stock(&self) -> Result<PartsView, AppError> {
        let tech = self.technician()?;
        let store = lock(&self.store);
        let catalogue: PartsCatalogue = store.read(&DocId::PartsCatalogue)?;
        let levels = store.stock_levels(&tech)?;
        Ok(parts_view(&catalogue, &levels))
    }

    /// Personal stock of a part before and after adding `qty` of it from `source` (the Parts
    /// screen asks while the technician types, to warn before stock goes below zero).
    pub fn stock_after_use(&self, req: StockUseRequest) -> Result<StockAfterUseView, AppError> {
        let tech = self.technician()?;
        let levels = lock(&self.store).stock_levels(&tech)?;
        let after = onsite_domain::ledger::after_use(
            &levels,
            &req.part_no,
            req.qty,
            stock_source(req.source),
        );
        Ok(StockAfterUseView {
            on_hand: after.on_hand,
            left: after.left,
            below_zero: after.below_zero,
        })
    }
}

fn decode_base64(text: &str) -> Result<Vec<u8>, AppError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| AppError::BadBase64(e.to_string()))
}

/// The MIME type of a photo, after checking the bytes decode as a JPEG or PNG image.
fn photo_mime(bytes: &[u8]) -> Result<&'static str, AppError> {
    let format = image::guess_format(bytes).map_err(|_| AppError::NotAnImage)?;
    let mime = match format {
        image::ImageFormat::Png => "image/png",
        image::ImageFormat::Jpeg => "image/jpeg",
        _ => return Err(AppError::NotAnImage),
    };
    image::load_from_memory_with_format(bytes, format).map_err(|_| AppError::NotAnImage)?;
    Ok(mime)
}

/// Build the detail view from documents (no store access).
/// The name on `technician`'s profile when this device holds it, else their id.
fn profile_name(store: &Store, technician: &str) -> String {
    let id = DocId::Profile(technician.to_owned());
    match store.contains(&id) {
        Ok(true) => store
            .read::<TechnicianProfile>(&id)
            .map_or_else(|_| technician.to_owned(), |p| p.name),
        _ => technician.to_owned(),
    }
}

/// The relay's kept refusal of document `id`, for the screen.
pub(crate) fn refusal_view(store: &Store, id: &DocId) -> Result<Option<RefusalView>, AppError> {
    Ok(store.refusal(id)?.map(|r| RefusalView {
        code: r.code.parse().unwrap_or(onsite_domain::Code::Unknown),
        message: r.message,
        at_ms: r.at_ms,
    }))
}

fn detail(
    order: &Order,
    visit: &Visit,
    library: &TemplateLibrary,
    card: OrderCard,
    past: BTreeMap<String, Vec<ServiceEntry>>,
    pending_sync: bool,
    now: Millis,
) -> OrderDetail {
    let missing = completion::missing_for_signing(visit, library);
    let checklists = completion::checklist_progress(visit, library)
        .iter()
        .filter_map(|p| {
            let inst = visit.checklists.get(&p.template_id)?;
            let t = library.get(&p.template_id, p.version).ok()?;
            Some(checklist_view(t, inst, p, visit))
        })
        .collect();
    OrderDetail {
        card,
        phone: order.customer.phone.clone(),
        notes: order.customer.notes.clone(),
        preferences: order.customer.preferences.clone(),
        dispatcher_notes: order.dispatcher_notes.as_str().to_owned(),
        appliances: order
            .appliances
            .iter()
            .map(|a| ApplianceView {
                id: a.id.clone(),
                category: a.category.clone(),
                brand: a.brand.clone(),
                model: a.model.clone(),
                serial: a.serial.clone(),
                warranty_until_ms: a.warranty_until_ms,
                in_warranty: a.in_warranty(now),
                this_order: a.id == order.appliance_id,
                history: past.get(&a.id).cloned().unwrap_or_default(),
            })
            .collect(),
        step: progress::current(&visit.events).map(step_view),
        checklists,
        parts: visit.parts.iter().map(part_line_view).collect(),
        fees: visit.fees.iter().map(fee_line_view).collect(),
        diagnosis: visit.diagnosis.clone(),
        work_performed: visit.work_performed.clone(),
        home_checks: visit.home_checks.iter().map(home_check_view).collect(),
        confirmations: onsite_domain::reference::Confirmation::ALL
            .iter()
            .map(|c| ConfirmationState {
                confirmation: confirmation_view(*c),
                value: visit.confirmed(*c),
            })
            .collect(),
        rating: visit.rating.as_ref().map(|r| RatingView {
            stars: r.stars,
            comment: r.comment.clone(),
        }),
        missing: if visit.is_signed() {
            Vec::new()
        } else {
            missing_views(&missing, library)
        },
        signed: visit.signature.as_ref().map(|s| SignedView {
            signer_name: s.signer_name.clone(),
            signed_at_ms: s.signed_at_ms,
            record_hash: s.record_hash.clone(),
            image_sha256: s.image_sha256.clone(),
            technician_name: s.technician_name.clone(),
            certificate_id: s.certificate_id.clone(),
        }),
        fees_total_cents: visit.fees_total_cents(),
        parts_total_cents: visit.parts_total_cents(),
        pending_sync,
        conflicts: Vec::new(),
        refused: None,
    }
}

fn checklist_view(
    t: &onsite_domain::reference::ChecklistTemplate,
    inst: &onsite_domain::visit::ChecklistInstance,
    progress: &ChecklistProgress,
    visit: &Visit,
) -> ChecklistView {
    let signed = visit.is_signed();
    let items: Vec<ItemView> = t
        .items
        .iter()
        .zip(&progress.items)
        .map(|(item, p)| ItemView {
            id: item.id.clone(),
            group: item.group.clone(),
            label_zh_cn: item.label.zh_cn.clone(),
            label_en: item.label.en.clone(),
            kind: item_kind_view(&item.kind),
            required: item.required,
            photo: photo_rule(item.photo),
            answer: inst.answers.get(&item.id).map(|a| AnswerView {
                outcome: outcome_view(&a.outcome),
                note: a.note.clone(),
                photos: a.photos.iter().map(|p| p.sha256.clone()).collect(),
            }),
            by: answered_by_view(p.by),
            state: item_state_view(p.state),
            record_text: signed.then(|| {
                let text = |lang| onsite_record::item_result_text(&t.id, item, visit, lang);
                TextView {
                    zh_cn: text(onsite_record::Lang::ZhCn),
                    en: text(onsite_record::Lang::En),
                }
            }),
        })
        .collect();
    ChecklistView {
        template_id: t.id.clone(),
        version: t.version,
        title_zh_cn: t.title.zh_cn.clone(),
        title_en: t.title.en.clone(),
        required_total: progress.required_total,
        required_done: progress.required_done,
        items,
    }
}

/// Translate the domain's completion list into views with item labels.
pub(crate) fn missing_views(missing: &[Missing], library: &TemplateLibrary) -> Vec<MissingView> {
    let label = |tid: Option<&str>, iid: &str| -> (Option<String>, Option<String>) {
        let found = library
            .templates
            .iter()
            .filter(|t| tid.is_none_or(|x| x == t.id))
            .find_map(|t| t.item(iid));
        match found {
            Some(i) => (Some(i.label.zh_cn.clone()), Some(i.label.en.clone())),
            None => (None, None),
        }
    };
    missing
        .iter()
        .map(|m| {
            let (tid, iid) = match m {
                Missing::ItemUnanswered {
                    template_id,
                    item_id,
                }
                | Missing::ReadingOutOfRange {
                    template_id,
                    item_id,
                }
                | Missing::ItemInvalid {
                    template_id,
                    item_id,
                }
                | Missing::PhotoMissing {
                    template_id,
                    item_id,
                } => (Some(template_id), Some(item_id)),
                Missing::ConfirmationMissing { item_id } => (None, Some(item_id)),
                Missing::TemplateMissing { template_id, .. } => (Some(template_id), None),
                Missing::WorkNotDone
                | Missing::HomeCheckMissing
                | Missing::RatingMissing
                | Missing::SignatureMissing => (None, None),
            };
            let (zh, en) = match iid {
                Some(i) => label(tid.map(String::as_str), i),
                None => (None, None),
            };
            MissingView {
                code: m.kind(),
                template_id: tid.cloned(),
                item_id: iid.cloned(),
                label_zh_cn: zh,
                label_en: en,
            }
        })
        .collect()
}

/// Map the client's status to the sync bar's.
fn sync_view(s: &onsite_client::SyncStatus) -> SyncStatus {
    SyncStatus {
        online: matches!(s.state, SyncState::Online | SyncState::Syncing),
        pending_changes: s.pending_changes.max(0) as u64,
        last_synced_ms: s.last_synced_ms,
        progress: s
            .progress
            .filter(|(_, total)| *total > 0)
            .map(|(done, total)| SyncProgress {
                done: done.min(total),
                total,
            }),
        last_error: match s.state {
            SyncState::NeedsSignIn => Some(Code::AuthNotSignedIn),
            _ => s.last_error.as_ref().map(|(code, _)| *code),
        },
    }
}
