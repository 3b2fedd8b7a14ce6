//! The headless demo: real relay, real device stores, real sync — every step through the same
//! code the app and the relay run.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, Utc};
use onsite_client::{Relay, Session, SharedStore, SyncReport};
use onsite_domain::order::{Order, Window};
use onsite_domain::reference::{ItemKind, ServiceType, TechnicianProfile, TemplateLibrary};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::visit::{Outcome, Visit};
use onsite_domain::{DocId, HOUR, MINUTE, Millis, record, seed};
use onsite_record::Lang;
use onsite_relay::{Config, SqliteStorage};
use onsite_store::Store;

const PASSWORD: &str = "onsite-demo";

fn time(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn money(cents: i64) -> String {
    format!("¥{}.{:02}", cents / 100, cents % 100)
}

struct Device {
    store: SharedStore,
    relay: Relay,
    _dir: tempfile::TempDir,
}

impl Device {
    async fn sign_in(url: &str, user: &str) -> anyhow::Result<Device> {
        let dir = tempfile::tempdir()?;
        let store: SharedStore = Arc::new(Mutex::new(Store::open_in(dir.path())?));
        onsite_client::sign_in(&store, url, user, PASSWORD, &Default::default()).await?;
        Ok(Device {
            store,
            relay: Relay::new(url)?,
            _dir: dir,
        })
    }

    async fn sync(&self) -> anyhow::Result<SyncReport> {
        let session = Session::load(&self.store)?.context("signed in")?;
        Ok(onsite_client::sync_once(&self.store, &self.relay, &session, |_, _| {}).await?)
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a finger draws on the signature pad: a wavy stroke on a transparent 600×200 canvas.
fn pad_drawing() -> anyhow::Result<Vec<u8>> {
    let mut img = image::RgbaImage::new(600, 200);
    for x in 40..560u32 {
        let t = f64::from(x) / 60.0;
        let y = 100.0 + 45.0 * t.sin() * (1.0 - f64::from(x) / 900.0);
        for dy in -2i32..=2 {
            let yy = (y as i32 + dy).clamp(0, 199) as u32;
            img.put_pixel(x, yy, image::Rgba([20, 20, 60, 255]));
        }
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(png)
}

/// The relay and the three signed-in devices of the demo.
struct Stage {
    relay: onsite_relay::RunningRelay,
    url: String,
    disp: Device,
    tech_a: Device,
    tech_b: Device,
    _dir: tempfile::TempDir,
}

/// The order the demo follows.
struct DemoOrder {
    id: String,
    doc: DocId,
}

/// Run the demo, writing the narrative to `out`.
pub async fn run(
    lang: &str,
    record_html: Option<&Path>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let lang = if lang.starts_with("zh") {
        Lang::ZhCn
    } else {
        Lang::En
    };
    let now = Utc::now().timestamp_millis();
    let day = now - now.rem_euclid(24 * HOUR);
    let stage = setup(now, day, out).await?;
    let order = dispatcher_creates_order(&stage, now, day, out).await?;
    let (visit, signature) = technician_offline_job(&stage.tech_a, &order, now, out)?;
    dispatcher_edits_meanwhile(&stage.disp, &order, day, out).await?;
    reconnect(&stage, out).await?;
    report(
        &stage,
        &order,
        &visit,
        &signature.png,
        lang,
        record_html,
        out,
    )?;
    stage.relay.stop().await;
    Ok(())
}

/// A relay on a seeded SQLite database, the dispatcher and two technicians signed in.
async fn setup(now: Millis, day: Millis, out: &mut impl Write) -> anyhow::Result<Stage> {
    writeln!(out, "== Relay with embedded SQLite on 127.0.0.1")?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("relay.sqlite3");
    let seeded = {
        let storage = SqliteStorage::open(&db)?;
        onsite_relay::seed::seed_demo(
            &storage,
            &Config::for_database(&db),
            PASSWORD,
            4,
            day,
            now - 2 * HOUR,
        )?
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let relay = onsite_relay::start(Config::for_database(&db), listener).await?;
    let url = relay.url();
    writeln!(
        out,
        "relay at {url}; demo company: {} accounts, {} orders",
        seeded.users.len(),
        seeded.orders.len()
    )?;

    let disp = Device::sign_in(&url, "disp").await?;
    let tech_a = Device::sign_in(&url, "tech.a").await?;
    let tech_b = Device::sign_in(&url, "tech.b").await?;
    disp.sync().await?;
    tech_b.sync().await?;
    Ok(Stage {
        relay,
        url,
        disp,
        tech_a,
        tech_b,
        _dir: dir,
    })
}

/// The dispatcher creates a repair order for tech.a; tech.a sees it, tech.b does not.
async fn dispatcher_creates_order(
    stage: &Stage,
    now: Millis,
    day: Millis,
    out: &mut impl Write,
) -> anyhow::Result<DemoOrder> {
    let Stage {
        disp,
        tech_a,
        tech_b,
        ..
    } = stage;
    writeln!(
        out,
        "\n== Dispatcher creates an order and assigns it to tech.a"
    )?;
    let mut new = seed::order(8, day);
    new.order_id = "o-demo-1".into();
    new.order_no = format!(
        "WO-{}-0001",
        DateTime::<Utc>::from_timestamp_millis(day)
            .map(|d| d.format("%Y%m%d").to_string())
            .unwrap_or_default()
    );
    new.service_type = ServiceType::Repair;
    new.problem = "空调不制冷，室外机不启动 / AC not cooling, outdoor unit does not start".into();
    let order_id = new.order_id.clone();
    let oid = DocId::Order(order_id.clone());
    {
        let mut s = disp.store();
        let tech: TechnicianProfile = s.read(&DocId::Profile("tech.a".into()))?;
        let mut order = Order::create(new, &SlaPolicy::default(), now)?;
        order.assign("demo-assign", &tech, "", "disp", now)?;
        writeln!(
            out,
            "{} for {} ({:?} tier) → {}; arrive by {}, complete by {}",
            order.order_no,
            order.customer.name,
            order.customer.tier,
            tech.name,
            time(order.sla.arrive_by_ms),
            time(order.sla.complete_by_ms)
        )?;
        s.create(&oid, &order)?;
    }
    disp.sync().await?;
    let first = tech_a.sync().await?;
    writeln!(
        out,
        "tech.a synced: {} documents in {} round trip(s), {} bytes down",
        first.docs_received, first.round_trips, first.bytes_down
    )?;
    let today = tech_a.store().today("tech.a", day, day + 24 * HOUR, now)?;
    writeln!(
        out,
        "tech.a's Today list: {}",
        today
            .iter()
            .map(|r| format!("{} [{:?}]", r.order.order_no, r.sla.badge))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    let b_has = tech_b.store().contains(&oid)?;
    writeln!(out, "tech.b can see {}: {}", order_id, b_has)?;
    Ok(DemoOrder {
        id: order_id,
        doc: oid,
    })
}

/// Offline, tech.a completes the Haier repair job (one wrong reading refused) and the customer
/// signs on the device. Returns the signed visit and the signature.
fn technician_offline_job(
    tech_a: &Device,
    order: &DemoOrder,
    now: Millis,
    out: &mut impl Write,
) -> anyhow::Result<(Visit, onsite_record::NormalisedSignature)> {
    writeln!(
        out,
        "\n== tech.a goes offline and completes the Haier repair job"
    )?;
    let order_id = &order.id;
    let signature = onsite_record::normalise_signature(&pad_drawing()?)?;
    let visit: Visit = {
        let mut s = tech_a.store();
        let order: Order = s.read(&order.doc)?;
        writeln!(
            out,
            "before the visit: {} · {} · {}",
            order.customer.phone,
            order.customer.address,
            order.customer.preferences.join("; ")
        )?;
        s.start_visit(order_id, "tech.a")?;
        let mut t = now;
        for e in seed::job_edits(ServiceType::Repair, "demo") {
            t += 2 * MINUTE;
            s.apply_visit_edit(order_id, "tech.a", e, t)?;
        }
        let wrong = s.apply_visit_edit(
            order_id,
            "tech.a",
            onsite_domain::edit::VisitEdit::Answer {
                template_id: "repair".into(),
                item_id: "repair.supply_voltage".into(),
                outcome: Outcome::Reading {
                    value: 0.22,
                    unit: "kV".into(),
                },
                note: String::new(),
            },
            t + MINUTE,
        );
        if let Err(e) = wrong {
            writeln!(out, "refused as expected [{}]: {e}", e.code())?;
        }
        let sha = s.put_attachment(&signature.png, "image/png")?;
        s.apply_visit_edit(
            order_id,
            "tech.a",
            seed::sign_edit("demo", &order.customer.name, &sha),
            t + 3 * MINUTE,
        )?
    };
    let pending = tech_a.store().pending_count()?;
    writeln!(
        out,
        "signed by the customer on the device ({} bytes signature PNG); {pending} change(s) waiting for the network",
        signature.png.len()
    )?;
    Ok((visit, signature))
}

/// Meanwhile the dispatcher changes the customer notes and the schedule window of the same order.
async fn dispatcher_edits_meanwhile(
    disp: &Device,
    order: &DemoOrder,
    day: Millis,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    writeln!(out, "\n== Meanwhile the dispatcher edits the same order")?;
    {
        let mut s = disp.store();
        s.update::<Order, _>(&order.doc, |o| {
            o.customer.notes = "客户要求上门前电话确认 / call before arriving".into();
            o.schedule = Some(Window {
                start_ms: day + 14 * HOUR,
                end_ms: day + 16 * HOUR,
            });
            Ok(())
        })?;
    }
    disp.sync().await?;
    writeln!(
        out,
        "dispatcher changed the customer notes and the schedule window, and synced"
    )?;
    Ok(())
}

/// tech.a reconnects and uploads; the dispatcher receives.
async fn reconnect(stage: &Stage, out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "\n== tech.a reconnects")?;
    let up = stage.tech_a.sync().await?;
    writeln!(
        out,
        "upload: {} document(s) sent, {} received, {} round trip(s), {} bytes up, {} bytes down",
        up.docs_sent, up.docs_received, up.round_trips, up.bytes_up, up.bytes_down
    )?;
    let got = stage.disp.sync().await?;
    writeln!(
        out,
        "dispatcher: {} document(s) received in {} round trip(s), {} bytes down",
        got.docs_received, got.round_trips, got.bytes_down
    )?;
    Ok(())
}

/// What the dispatcher received: merged order, the signed visit item by item, its verification,
/// and (when asked) the record as HTML.
fn report(
    stage: &Stage,
    order: &DemoOrder,
    visit: &Visit,
    signature_png: &[u8],
    lang: Lang,
    record_html: Option<&Path>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    writeln!(out, "\n== What the dispatcher received")?;
    let s = stage.disp.store();
    let order_id = &order.id;
    let order: Order = s.read(&order.doc)?;
    let received: Visit = s.read(&DocId::visit(order_id, "tech.a"))?;
    let library: TemplateLibrary = s.read(&DocId::Templates)?;
    let row = s.order_row(order_id)?.context("order row")?;
    writeln!(
        out,
        "order {} status {} · conflicts {}",
        order.order_no,
        row.effective_status.as_str(),
        row.conflicts.len()
    )?;
    writeln!(
        out,
        "merged dispatcher edits: notes “{}”, window {}–{}",
        order.customer.notes,
        order.schedule.map(|w| time(w.start_ms)).unwrap_or_default(),
        order.schedule.map(|w| time(w.end_ms)).unwrap_or_default()
    )?;
    writeln!(
        out,
        "identical to what the technician signed: {}",
        received == *visit
    )?;
    report_content(&received, &library, lang, out)?;
    let sig = received.signature.as_ref().context("signed")?;
    writeln!(
        out,
        "  signed by {} · record hash {}",
        sig.signer_name, sig.record_hash
    )?;
    writeln!(
        out,
        "  verification: {}",
        if record::verify(&order, &received).is_valid() {
            "valid"
        } else {
            "MODIFIED AFTER SIGNING"
        }
    )?;
    writeln!(
        out,
        "  verify at {}",
        onsite_record::verify_url(&stage.url, &order.order_no, &sig.record_hash)
    )?;
    if let Some(path) = record_html {
        let html = onsite_record::render_html(&onsite_record::RecordInput {
            order: &order,
            visit: &received,
            library: &library,
            signature_png,
            company: "Onsite Demo Service Co.",
            relay_base_url: &stage.url,
            lang,
            utc_offset_minutes: 480,
        })?;
        std::fs::write(path, html)?;
        writeln!(out, "  record written to {}", path.display())?;
    }
    Ok(())
}

/// The received visit's checklists (items answered, readings), parts, total and rating.
fn report_content(
    received: &Visit,
    library: &TemplateLibrary,
    lang: Lang,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let tag = if lang == Lang::ZhCn { "zh-CN" } else { "en" };
    for inst in received.checklists.values() {
        let t = library.get(&inst.template_id, inst.version)?;
        let answered = t
            .items
            .iter()
            .filter(|i| match &i.kind {
                ItemKind::CustomerConfirm { confirmation } => received.confirmed(*confirmation),
                ItemKind::SignedRecord => received.is_signed(),
                _ => inst.answers.contains_key(&i.id),
            })
            .count();
        writeln!(
            out,
            "  {}: {answered}/{} items",
            t.title.get(tag),
            t.items.len()
        )?;
        for (item, a) in &inst.answers {
            if let Outcome::Reading { value, unit } = &a.outcome {
                writeln!(out, "    reading {item}: {value} {unit}")?;
            }
        }
    }
    for p in &received.parts {
        writeln!(
            out,
            "  part {} ×{} (faulty serial {})",
            p.part_no, p.qty, p.faulty_serial
        )?;
    }
    writeln!(
        out,
        "  fees and parts total {}",
        money(received.fees_total_cents() + received.parts_total_cents())
    )?;
    if let Some(r) = &received.rating {
        writeln!(out, "  rating {}★ “{}”", r.stars, r.comment)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_demo_delivers_a_verified_completion_to_the_dispatcher() {
        let mut out = Vec::new();
        super::run("en", None, &mut out).await.expect("demo runs");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("status completed · conflicts 0"), "{text}");
        assert!(
            text.contains("identical to what the technician signed: true"),
            "{text}"
        );
        assert!(text.contains("verification: valid"), "{text}");
        assert!(
            text.contains("tech.b can see o-demo-1: false"),
            "access control keeps tech.b out: {text}"
        );
        assert!(
            text.contains("call before arriving"),
            "the dispatcher's concurrent edit merged: {text}"
        );
        assert!(
            text.contains("refused as expected [checklist.wrong_unit]"),
            "{text}"
        );
    }
}
