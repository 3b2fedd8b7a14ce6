//! The Onsite half of the comparison: the relay (a child process, behind a byte-counting proxy)
//! and devices built from the real `onsite-app` / `onsite-client` / `onsite-store` on temporary
//! directories, running the five scenarios of the workload and checking every result.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use automerge::AutoCommit;
use onsite_app::{App, system_clock};
use onsite_client::{Relay, RelayClock, Session, SharedStore, SyncReport, sync_once};
use onsite_domain::edit::VisitEdit;
use onsite_domain::household::{Contact, Household};
use onsite_domain::numbering;
use onsite_domain::order::{Appliance, Customer, NewOrder, Order, Tier, Window};
use onsite_domain::progress::ProgressKind;
use onsite_domain::reference::{Confirmation, ServiceType};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::{CheckResult, Outcome, StockSource, Visit};
use onsite_domain::{DocId, doc, seed};
use onsite_relay::{Config, SqliteStorage};
use onsite_store::Store;
use onsite_wire::Role;

use super::workload::{Answer, WorkOrder, Workload};
use super::{Check, Figures, Scenario, SideRun};
use crate::proc_stats::ProcStats;
use crate::wire_count::CountingProxy;

/// Every account's password in the comparison's relay.
pub const PASSWORD: &str = "compare-password";
const DISPATCHER: &str = "disp";
const ADMIN: &str = "admin";

/// Error of the Onsite half: what failed, in words.
pub type Failure = String;

fn fail<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> Failure {
    move |e| format!("{what}: {e}")
}

/// Accounts and the reference documents the scenarios need (templates with the 30-item repair
/// checklist, fees, parts, the technician's profile), written before the relay starts.
pub fn prepare_database(path: &Path, technician: &str) -> Result<(), Failure> {
    let storage = SqliteStorage::open(path).map_err(fail("open the relay database"))?;
    let now = chrono::Utc::now().timestamp_millis();
    for (id, role) in [
        (ADMIN, Role::Admin),
        (DISPATCHER, Role::Dispatcher),
        (technician, Role::Technician),
    ] {
        onsite_relay::accounts::add_user(&storage, id, id, role, PASSWORD, now)
            .map_err(fail("add an account"))?;
    }
    let profile = seed::technician(
        technician,
        "张师傅 Zhang",
        "13900000001",
        "CERT-BENCH-1",
        now,
    );
    let mut docs: Vec<(DocId, AutoCommit)> = vec![
        (
            DocId::Templates,
            doc::create(&super::workload::template_library()).map_err(fail("templates"))?,
        ),
        (
            DocId::FeeSchedule,
            doc::create(&seed::fee_schedule(now - seed::YEAR)).map_err(fail("fees"))?,
        ),
        (
            DocId::PartsCatalogue,
            doc::create(&seed::parts_catalogue()).map_err(fail("parts"))?,
        ),
        (
            DocId::Profile(technician.to_owned()),
            doc::create(&profile).map_err(fail("profile"))?,
        ),
    ];
    onsite_relay::seed::commit_as_admin(&storage, &Config::default(), &mut docs, now)
        .map_err(|e| format!("store the reference documents: {e}"))
}

/// One device: its store (through the dispatcher's `App` when it is a dispatcher's), its session.
struct Device {
    _dir: tempfile::TempDir,
    app: Option<App>,
    store: SharedStore,
    relay: Relay,
    session: Session,
    /// The last order number this device gave out (numbers continue across batches).
    last_order_no: Mutex<Option<String>>,
}

impl Device {
    /// A fresh device signed in as `user` at `url` (nothing synced yet).
    async fn sign_in(url: &str, user: &str, dispatcher: bool) -> Result<Device, Failure> {
        let dir = tempfile::tempdir().map_err(fail("temp dir"))?;
        let (app, store) = if dispatcher {
            let app = App::open(dir.path(), system_clock()).map_err(fail("open the app"))?;
            let store = app.store().clone();
            (Some(app), store)
        } else {
            let store = Store::open_in(dir.path()).map_err(fail("open the store"))?;
            (None, Arc::new(Mutex::new(store)))
        };
        let session = onsite_client::sign_in(&store, url, user, PASSWORD, &RelayClock::default())
            .await
            .map_err(fail("sign in"))?;
        let relay = Relay::new(url).map_err(fail("relay client"))?;
        Ok(Device {
            _dir: dir,
            app,
            store,
            relay,
            session,
            last_order_no: Mutex::new(None),
        })
    }

    fn app(&self) -> &App {
        self.app.as_ref().expect("a dispatcher's device")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sync until nothing is left to send or fetch; the reports of every `sync_once`.
    async fn sync(&self) -> Result<SyncReport, Failure> {
        let mut total = SyncReport::default();
        loop {
            let r = sync_once(&self.store, &self.relay, &self.session, |_, _| {})
                .await
                .map_err(fail("sync"))?;
            if let Some((id, code)) = r.rejected.first() {
                return Err(format!("the relay refused {id}: {code}"));
            }
            total.round_trips += r.round_trips;
            total.bytes_up += r.bytes_up;
            total.bytes_down += r.bytes_down;
            total.docs_sent += r.docs_sent;
            total.docs_received += r.docs_received;
            total.attachments_sent += r.attachments_sent;
            total.cursor = r.cursor;
            let pending = self.lock().pending_count().map_err(fail("pending"))?;
            if r.round_trips < 64 && pending == 0 {
                return Ok(total);
            }
        }
    }
}

/// The relay's `/proc` figures now.
pub type Stats<'a> = &'a (dyn Fn() -> ProcStats + Sync);

/// What the relay, its proxy and one scenario's clock say, before and after.
struct Meter<'a> {
    stats: Stats<'a>,
    proxy: &'a CountingProxy,
}

impl Meter<'_> {
    async fn measure<F, T>(&self, f: F) -> Result<(Figures, T), Failure>
    where
        F: std::future::Future<Output = Result<T, Failure>>,
    {
        let (bytes, stats, start) = (self.proxy.bytes(), (self.stats)(), Instant::now());
        let out = f.await?;
        let wall = start.elapsed();
        let (b, s) = (self.proxy.bytes().since(bytes), (self.stats)());
        Ok((
            Figures {
                wall_ms: wall.as_secs_f64() * 1000.0,
                up: b.up,
                down: b.down,
                round_trips: None,
                peak_rss: s.peak_rss,
                cpu_s: (s.cpu.saturating_sub(stats.cpu)).as_secs_f64(),
            },
            out,
        ))
    }
}

fn tier(t: &str) -> Tier {
    match t {
        "Gold" => Tier::Gold,
        "Platinum" => Tier::Platinum,
        _ => Tier::Standard,
    }
}

/// Create `orders` on a dispatcher's device as the console's `create_order` writes them — the
/// order through `Order::create` (SLA from the tier, numbered with the device's relay-allocated
/// prefix by `numbering::next_order_no`) and the new customer's `Household`, both in one store
/// transaction — but without the console's answer: `App::create_order` returns a view built
/// from a snapshot of the whole store, which makes 1,000 creations take minutes (see
/// docs/benchmarks.md). Ids are the workload's. Returns the order ids by workload index.
fn create_orders(dev: &Device, orders: &[WorkOrder]) -> Result<Vec<String>, Failure> {
    let prefix = dev.session.order_prefix.clone().unwrap_or_default();
    let mut last = dev.last_order_no.lock().unwrap_or_else(|p| p.into_inner());
    let mut s = dev.lock();
    orders
        .iter()
        .map(|o| {
            let now = chrono::Utc::now().timestamp_millis();
            let no = numbering::next_order_no(last.as_deref(), &prefix, now, 0)
                .map_err(fail("order number"))?
                .format();
            *last = Some(no.clone());
            let new = new_order(o, no);
            let order =
                Order::create(new, &SlaPolicy::PUBLISHED, now).map_err(fail("Order::create"))?;
            let c = &order.customer;
            let contact = Contact {
                name: c.name.clone(),
                phones: vec![c.phone.clone()],
                address: c.address.clone(),
                tier: c.tier,
                notes: c.notes.clone(),
                preferences: Vec::new(),
            };
            let household =
                Household::create(&o.household_id, contact, order.appliances.clone(), now)
                    .map_err(fail("Household::create"))?;
            s.batch(|b| {
                b.create(&DocId::Household(o.household_id.clone()), &household)?;
                b.create(&DocId::Order(o.order_id.clone()), &order)
            })
            .map_err(fail("store the order"))?;
            Ok(o.order_id.clone())
        })
        .collect()
}

fn new_order(o: &WorkOrder, order_no: String) -> NewOrder {
    NewOrder {
        order_id: o.order_id.clone(),
        order_no,
        customer: Customer {
            household_id: o.household_id.clone(),
            name: o.customer_name.clone(),
            phone: o.phone.clone(),
            address: o.address.clone(),
            tier: tier(&o.tier),
            notes: o.notes.clone(),
            preferences: Vec::new(),
        },
        appliances: vec![Appliance {
            id: o.appliance_id.clone(),
            category: o.category.clone(),
            brand: o.brand.clone(),
            model: o.model.clone(),
            serial: o.serial.clone(),
            purchase_date_ms: None,
            warranty_until_ms: None,
        }],
        appliance_id: o.appliance_id.clone(),
        service_type: ServiceType::Repair,
        problem: o.problem.clone(),
        schedule: Some(Window {
            start_ms: o.window_start_ms,
            end_ms: o.window_end_ms,
        }),
    }
}

/// Apply `edits` (workload index → new problem and notes) as the console's `edit_order` writes
/// them (one store update through the domain's size rules), without its whole-store answer.
fn edit_orders(
    dev: &Device,
    ids: &[String],
    expected: &mut [WorkOrder],
    edits: &[super::workload::OrderEdit],
) -> Result<(), Failure> {
    let mut s = dev.lock();
    for e in edits {
        let o = &mut expected[e.order];
        o.problem = e.problem.clone();
        o.notes = e.notes.clone();
        s.update(&DocId::Order(ids[e.order].clone()), |order: &mut Order| {
            order.customer.notes = e.notes.clone();
            order.problem = e.problem.clone();
            onsite_domain::admit::sizes(order, true)
        })
        .map_err(fail("edit an order"))?;
    }
    Ok(())
}

/// Compare the orders a device holds with the workload's: the mismatches, in words.
fn check_orders(store: &Store, ids: &[String], expected: &[WorkOrder]) -> Check {
    let mut problems = Vec::new();
    for (id, w) in ids.iter().zip(expected) {
        let o: Order = match store.read(&DocId::Order(id.clone())) {
            Ok(o) => o,
            Err(e) => {
                problems.push(format!("{id}: {e}"));
                continue;
            }
        };
        let a = o.appliance();
        let same = o.customer.name == w.customer_name
            && o.customer.phone == w.phone
            && o.customer.address == w.address
            && o.customer.tier == tier(&w.tier)
            && o.customer.notes == w.notes
            && o.problem == w.problem
            && o.service_type == ServiceType::Repair
            && o.schedule.map(|s| (s.start_ms, s.end_ms))
                == Some((w.window_start_ms, w.window_end_ms))
            && a.is_some_and(|a| {
                (
                    a.category.as_str(),
                    a.brand.as_str(),
                    a.model.as_str(),
                    a.serial.as_str(),
                ) == (
                    w.category.as_str(),
                    w.brand.as_str(),
                    w.model.as_str(),
                    w.serial.as_str(),
                )
            });
        if !same {
            problems.push(format!("{id}: differs from workload order {}", w.order_id));
        }
    }
    Check::from_problems(expected.len(), problems)
}

/// The technician's edits of the workload's completion, in the order the app makes them; the
/// signature (which needs the stored image) comes after.
fn completion_edits(w: &Workload) -> Vec<VisitEdit> {
    let c = &w.completion;
    let progress = |id: &str, kind| VisitEdit::Progress {
        id: format!("c-{id}"),
        kind,
    };
    let mut edits = vec![
        progress("accepted", ProgressKind::Accepted),
        progress("en-route", ProgressKind::EnRoute),
        progress("arrived", ProgressKind::Arrived),
        progress("started", ProgressKind::WorkStarted),
    ];
    edits.extend(c.answers.iter().map(|a| VisitEdit::Answer {
        template_id: a.template_id.clone(),
        item_id: a.item_id.clone(),
        outcome: match &a.answer {
            Answer::Done => Outcome::Done,
            Answer::Pass => Outcome::Pass,
            Answer::Reading { value, unit } => Outcome::Reading {
                value: *value,
                unit: unit.clone(),
            },
        },
        note: a.note.clone(),
    }));
    edits.push(VisitEdit::AddPart {
        id: "c-part".to_owned(),
        part_no: c.part.part_no.clone(),
        qty: c.part.qty,
        faulty_serial: c.part.faulty_serial.clone(),
        replacement_serial: c.part.replacement_serial.clone(),
        source: StockSource::Warehouse,
    });
    edits.extend(c.fees.iter().enumerate().map(|(n, f)| VisitEdit::AddFee {
        id: format!("c-fee-{n}"),
        code: f.code.clone(),
        qty: f.qty,
    }));
    edits.push(VisitEdit::AddHomeCheck {
        id: "c-home".to_owned(),
        appliance: c.home_check.clone(),
        result: CheckResult::Ok,
        note: String::new(),
    });
    edits.push(VisitEdit::SetNotes {
        diagnosis: c.diagnosis.clone(),
        work_performed: c.work_performed.clone(),
    });
    edits.push(progress("done", ProgressKind::WorkDone));
    edits.extend(Confirmation::ALL.map(|confirmation| VisitEdit::Confirm {
        confirmation,
        value: true,
    }));
    edits.push(VisitEdit::Rate {
        stars: c.rating_stars,
        comment: c.rating_comment.clone(),
    });
    edits
}

/// The technician records the completion offline (visit edits through the store's visit-edit
/// API, the signature image stored as an attachment); the visit's id and the image's SHA-256.
fn record_completion(
    tech: &Device,
    w: &Workload,
    order_id: &str,
) -> Result<(DocId, String), Failure> {
    use base64::Engine;
    let c = &w.completion;
    let mut s = tech.lock();
    s.start_visit(order_id, &c.technician)
        .map_err(fail("start the visit"))?;
    let mut now = chrono::Utc::now().timestamp_millis();
    for e in completion_edits(w) {
        now += 1;
        s.apply_visit_edit(order_id, &c.technician, e, now)
            .map_err(fail("a completion edit"))?;
    }
    let png = base64::engine::general_purpose::STANDARD
        .decode(&c.signature_png_base64)
        .map_err(fail("signature base64"))?;
    let sha = s
        .put_attachment(&png, "image/png")
        .map_err(fail("store the signature"))?;
    let sign = VisitEdit::Sign {
        event_id: "c-signed".to_owned(),
        signer_name: c.signer_name.clone(),
        image_sha256: sha.clone(),
    };
    s.apply_visit_edit(order_id, &c.technician, sign, now + 1)
        .map_err(fail("sign"))?;
    Ok((DocId::visit(order_id, &c.technician), sha))
}

/// The visit as `reader` holds it, compared with the workload's completion.
async fn check_completion(reader: &Device, w: &Workload, vid: &DocId, sha: &str) -> Check {
    let c = &w.completion;
    let mut problems = Vec::new();
    match reader.lock().read::<Visit>(vid) {
        Err(e) => problems.push(format!("{vid}: {e}")),
        Ok(v) => {
            let answered = c
                .answers
                .iter()
                .filter(|a| {
                    v.checklists
                        .get(&a.template_id)
                        .is_some_and(|i| i.answers.contains_key(&a.item_id))
                })
                .count();
            if answered != c.answers.len() {
                problems.push(format!("{answered} of {} answers arrived", c.answers.len()));
            }
            if v.parts.len() != 1 || v.fees.len() != c.fees.len() {
                problems.push(format!("parts {} fees {}", v.parts.len(), v.fees.len()));
            }
            if v.signature.as_ref().map(|s| s.image_sha256.as_str()) != Some(sha) {
                problems.push("the signature did not arrive".to_owned());
            }
        }
    }
    match onsite_client::fetch_attachment(&reader.store, &reader.relay, &reader.session, sha).await
    {
        Ok(bytes) if bytes.len() > 1024 => {}
        Ok(bytes) => problems.push(format!("signature image of {} B", bytes.len())),
        Err(e) => problems.push(format!("signature image: {e}")),
    }
    Check::from_problems(1, problems)
}

/// Scenario 2's measured window on a fresh device, and what it then holds checked.
async fn cold_download(
    meter: &Meter<'_>,
    url: &str,
    ids: &[String],
    expected: &[WorkOrder],
) -> Result<(Device, Figures, Check), Failure> {
    let d = Device::sign_in(url, DISPATCHER, true).await?;
    let (mut f, r) = meter.measure(d.sync()).await?;
    f.round_trips = Some(r.round_trips);
    let check = check_orders(&d.lock(), ids, expected);
    Ok((d, f, check))
}

/// Run the five scenarios against the relay behind `proxy` (`stats` reads its process).
pub async fn run(
    w: &Workload,
    stats: Stats<'_>,
    proxy: &CountingProxy,
) -> Result<SideRun, Failure> {
    let meter = Meter { stats, proxy };
    let url = proxy.url();
    let n = w.sizes.orders;
    let mut expected: Vec<WorkOrder> = w.orders[..n].to_vec();
    let mut out = SideRun::default();

    // 1. A dispatcher's device uploads the orders it created offline.
    let d1 = Device::sign_in(&url, DISPATCHER, true).await?;
    d1.sync().await?;
    let ids = create_orders(&d1, &expected)?;
    let (mut f, r) = meter.measure(d1.sync()).await?;
    f.round_trips = Some(r.round_trips + r.attachments_sent as u32);
    // 2. A fresh device downloads them; what it holds checks scenario 1 and 2. Then again on
    // other fresh devices (the table shows the median of the runs that converged); d2 goes on
    // to scenario 3.
    let (d2, f2, check) = cold_download(&meter, &url, &ids, &expected).await?;
    out.push(Scenario::Upload, f, check.clone());
    out.push(Scenario::ColdDownload, f2, check);
    for _ in 1..super::COLD_RUNS {
        let (_, f, check) = cold_download(&meter, &url, &ids, &expected).await?;
        out.push(Scenario::ColdDownload, f, check);
    }

    // 3. Catch-up: 50 changed by d1 (through the relay), 50 on d2 while it was offline.
    edit_orders(&d1, &ids, &mut expected, &w.relay_edits)?;
    d1.sync().await?;
    edit_orders(&d2, &ids, &mut expected, &w.device_edits)?;
    let (mut f, r) = meter.measure(d2.sync()).await?;
    f.round_trips = Some(r.round_trips);
    d1.sync().await?;
    let mut check = check_orders(&d2.lock(), &ids, &expected);
    check.merge(check_orders(&d1.lock(), &ids, &expected));
    out.push(Scenario::CatchUp, f, check);

    // 4. A completion on the technician's device.
    let c = &w.completion;
    d1.app()
        .assign_order(&ids[c.order], &c.technician)
        .map_err(fail("assign"))?;
    d1.sync().await?;
    let tech = Device::sign_in(&url, &c.technician, false).await?;
    tech.sync().await?;
    let (vid, sha) = record_completion(&tech, w, &ids[c.order])?;
    let (mut f, r) = meter.measure(tech.sync()).await?;
    f.round_trips = Some(r.round_trips + r.attachments_sent as u32);
    d2.sync().await?;
    out.push(
        Scenario::Completion,
        f,
        check_completion(&d2, w, &vid, &sha).await,
    );

    // 5. No-op sync with all the orders on the device. The others come from a second
    // dispatcher's device (a device numbers at most 9,999 orders a day), synced in batches as it
    // creates them (one request with every pending document could pass the relay's body limit).
    let more = &w.orders[n..];
    let d3 = Device::sign_in(&url, DISPATCHER, true).await?;
    let mut all_ids = ids;
    for batch in more.chunks(n.max(1)) {
        all_ids.extend(create_orders(&d3, batch)?);
        d3.sync().await?;
    }
    d1.sync().await?;
    let (mut f, r) = meter.measure(d1.sync()).await?;
    f.round_trips = Some(r.round_trips);
    let mut all: Vec<WorkOrder> = expected;
    all.extend(more.iter().cloned());
    let mut check = check_orders(&d1.lock(), &all_ids, &all);
    if r.docs_sent + r.docs_received > 0 {
        check.problems.push(format!(
            "{} documents moved in a no-op sync",
            r.docs_sent + r.docs_received
        ));
    }
    out.push(Scenario::NoOp, f, check);
    Ok(out)
}
