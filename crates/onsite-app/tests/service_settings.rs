//! The centre's service settings (`ref:service`) edited from the console, against a seeded relay
//! on 127.0.0.1: an admin saves a whole new version, which moves the follow-up due times and the
//! maintenance reminders at once and reaches the dispatchers, who only read it; a dispatcher's
//! save is refused with its code; bad input is refused by its form field with nothing written.

mod common;

use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::household::{Field, FieldRef};
use onsite_domain::service::{MAX_HOURS, MAX_MONTHS, ServiceSettings};
use onsite_domain::{Code, DocId, HOUR};
use onsite_testkit::relay::{Seeded, wait_for};

async fn staff(seeded: &Seeded, user: &str) -> App {
    let app = common::signed_in(&seeded.dir.path().join(user), &seeded.url, user).await;
    wait_for("ref:service on the device", || {
        app.service_settings().is_ok()
    })
    .await;
    app
}

/// The form as the UI sends it, filled with `view`.
fn request_from(view: &ServiceSettingsView) -> ServiceSettingsRequest {
    ServiceSettingsRequest {
        follow_up_within_hours: view.follow_up_within_hours,
        follow_up_retry_hours: view.follow_up_retry_hours,
        complaint_resolve_hours: view.complaint_resolve_hours,
        maintenance: view.maintenance.clone(),
    }
}

fn stored(app: &App) -> ServiceSettings {
    app.store()
        .lock()
        .expect("store")
        .read(&DocId::ServiceSettings)
        .expect("ref:service")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admins_new_version_moves_follow_ups_and_reminders_and_dispatchers_read_it() {
    let seeded = Seeded::start().await;
    let admin = staff(&seeded, "admin").await;
    let disp = staff(&seeded, "disp").await;
    wait_for(
        "the seed's follow-ups and reminders on the admin's device",
        || {
            admin.follow_ups().is_ok_and(|f| !f.follow_ups.is_empty())
                && admin.reminders().is_ok_and(|r| !r.due.is_empty())
        },
    )
    .await;
    let view = admin.service_settings().expect("settings");
    assert!(view.can_edit, "an admin may edit the settings");
    assert!(
        !disp.service_settings().expect("settings").can_edit,
        "a dispatcher reads them only"
    );
    assert!(
        view.categories
            .iter()
            .any(|c| c.id == "fridge" && c.zh_cn == "冰箱"),
        "the form offers the domain's categories with their labels: {:?}",
        view.categories
    );
    let call = admin
        .follow_ups()
        .expect("follow-ups")
        .follow_ups
        .into_iter()
        .find(|f| f.attempts == 0)
        .expect("a call not yet tried");
    assert_eq!(
        call.due_at_ms - call.signed_at_ms,
        i64::from(view.follow_up_within_hours) * HOUR,
        "due the seed's window after the signature"
    );
    let fridge = admin
        .reminders()
        .expect("reminders")
        .due
        .into_iter()
        .find(|r| r.category == "fridge")
        .expect("a demo fridge is due");

    let mut request = request_from(&view);
    request.follow_up_within_hours = 24;
    for m in &mut request.maintenance {
        if m.category == "fridge" {
            m.months = 12;
        }
    }
    let saved = admin
        .save_service_settings(request)
        .expect("a valid version");
    assert_eq!(saved.version, view.version + 1, "a new version");
    assert_eq!(saved.follow_up_within_hours, 24);

    let moved = admin
        .follow_ups()
        .expect("follow-ups")
        .follow_ups
        .into_iter()
        .find(|f| f.order_id == call.order_id && f.technician_id == call.technician_id)
        .expect("the same call");
    assert_eq!(
        moved.due_at_ms - moved.signed_at_ms,
        24 * HOUR,
        "the new window moves the call's due time"
    );
    let sooner = admin
        .reminders()
        .expect("reminders")
        .due
        .into_iter()
        .find(|r| r.household_id == fridge.household_id && r.appliance_id == fridge.appliance_id)
        .expect("the same fridge, still due");
    assert_eq!(sooner.months, 12, "the fridge's new interval");
    assert!(
        sooner.due_at_ms < fridge.due_at_ms,
        "a shorter interval makes the reminder due sooner: {} then {}",
        fridge.due_date,
        sooner.due_date
    );

    wait_for("the new version to reach the dispatcher", || {
        disp.service_settings()
            .is_ok_and(|s| s.version == saved.version)
    })
    .await;
    let seen = disp.service_settings().expect("settings");
    assert!(
        seen.follow_up_within_hours == 24 && !seen.can_edit,
        "the dispatcher reads the admin's version: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_is_refused_and_bad_input_is_refused_by_its_field_with_nothing_written() {
    let seeded = Seeded::start().await;
    let admin = staff(&seeded, "admin").await;
    let disp = staff(&seeded, "disp").await;
    let view = admin.service_settings().expect("settings");
    let before = stored(&admin);

    let err = disp
        .save_service_settings(request_from(&view))
        .expect_err("a dispatcher may not");
    assert_eq!(
        err.code(),
        Code::ServiceAdminsOnly,
        "only admins change the service settings"
    );
    assert_eq!(
        stored(&disp).version,
        before.version,
        "the dispatcher's device wrote nothing"
    );

    let at = |field, index| Some(FieldRef { field, index });
    let with = |f: &dyn Fn(&mut ServiceSettingsRequest)| {
        let mut r = request_from(&view);
        f(&mut r);
        r
    };
    let cases = [
        (
            with(&|r| r.follow_up_within_hours = 0),
            Code::ServiceBadHours,
            at(Field::FollowUpWithinHours, None),
        ),
        (
            with(&|r| r.follow_up_retry_hours = MAX_HOURS + 1),
            Code::ServiceBadHours,
            at(Field::FollowUpRetryHours, None),
        ),
        (
            with(&|r| r.complaint_resolve_hours = 0),
            Code::ServiceBadHours,
            at(Field::ComplaintResolveHours, None),
        ),
        (
            with(&|r| r.maintenance[1].months = MAX_MONTHS + 1),
            Code::ServiceBadInterval,
            at(Field::Months, Some(1)),
        ),
        (
            with(&|r| r.maintenance[0].category = "  ".into()),
            Code::ServiceBadInterval,
            at(Field::Category, Some(0)),
        ),
        (
            with(&|r| r.maintenance[2].task = " ".into()),
            Code::ServiceTaskMissing,
            at(Field::Task, Some(2)),
        ),
        (
            with(&|r| r.maintenance[2].category = r.maintenance[0].category.clone()),
            Code::ServiceDuplicateCategory,
            at(Field::Category, Some(2)),
        ),
    ];
    for (bad, code, field) in cases {
        let err = admin.save_service_settings(bad).expect_err("refused");
        let shown = CommandError::from(err);
        assert_eq!(shown.code, code, "{}", shown.message);
        assert_eq!(
            shown.field, field,
            "the form shows {code} by its field: {}",
            shown.message
        );
        assert_eq!(
            stored(&admin),
            before,
            "a refused version ({code}) writes nothing"
        );
    }
}
