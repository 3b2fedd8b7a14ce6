//! The CSV order import, driven through `App` on a dispatcher's device synced from a seeded relay:
//! the documented example file previews clean and imports in one go, importing it again creates
//! nothing, a file with bad rows shows every row's errors and imports nothing, and files that
//! cannot be read, or changed since their preview, are refused with their codes.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::import::Column;
use onsite_domain::{Code, DocId};
use onsite_testkit::PASSWORD;
use onsite_testkit::relay::{Seeded, wait_for};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/import-example.csv")
}

fn open(dir: &Path) -> App {
    let n = Arc::new(AtomicU64::new(1));
    common::open(dir)
        .with_utc_offset_minutes(8 * 60)
        .with_ids(Arc::new(move || {
            format!("id{}", n.fetch_add(1, Ordering::SeqCst))
        }))
}

async fn dispatcher(seeded: &Seeded) -> App {
    let app = open(&seeded.dir.path().join("disp"));
    app.sign_in(SignInRequest {
        relay_url: seeded.url.clone(),
        user: "disp".to_owned(),
        password: PASSWORD.to_owned(),
        allow_plain_http: false,
    })
    .await
    .expect("sign in");
    wait_for("the registry to sync", || {
        app.search_customers("13800000001")
            .map(|s| !s.households.is_empty())
            .unwrap_or(false)
    })
    .await;
    app
}

fn path(p: &Path) -> ImportSource {
    ImportSource {
        path: Some(p.display().to_string()),
        bytes_base64: None,
    }
}

fn bytes(b: &[u8]) -> ImportSource {
    ImportSource {
        path: None,
        bytes_base64: Some(base64::engine::general_purpose::STANDARD.encode(b)),
    }
}

fn count_docs(app: &App, kind: fn(&DocId) -> bool) -> usize {
    let store = app.store().lock().expect("store");
    store
        .list_doc_ids()
        .expect("ids")
        .iter()
        .filter(|d| kind(d))
        .count()
}

fn is_order(d: &DocId) -> bool {
    matches!(d, DocId::Order(_))
}

fn is_household(d: &DocId) -> bool {
    matches!(d, DocId::Household(_))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_file_imports_in_one_go_and_a_second_time_creates_nothing() {
    let mut seeded = Seeded::start().await;
    let app = dispatcher(&seeded).await;
    seeded.kill();
    let (orders, households) = (count_docs(&app, is_order), count_docs(&app, is_household));

    let preview = app.import_preview(path(&example())).expect("preview");
    assert!(preview.file_issues.is_empty(), "{:?}", preview.file_issues);
    assert_eq!(
        (
            preview.total,
            preview.new_orders,
            preview.invalid,
            preview.new_households
        ),
        (4, 4, 0, 2),
        "four orders; 赵敏's two rows make one new household, Chen Jie the other"
    );
    assert!(preview.can_commit);
    let first = &preview.rows[0];
    assert_eq!(first.row_no, 2, "spreadsheet numbering");
    assert_eq!(
        (first.household_id.as_deref(), first.phone.as_str()),
        (Some("hh-1"), "13800000001"),
        "张伟's phone finds his household"
    );

    let result = app
        .import_commit(ImportCommitRequest {
            source: path(&example()),
            file_sha256: preview.file_sha256.clone(),
        })
        .expect("import");
    assert_eq!(result.order_nos.len(), 4);
    assert_eq!(result.new_households, 2);
    assert_eq!(count_docs(&app, is_order), orders + 4);
    assert_eq!(count_docs(&app, is_household), households + 2);
    let zhao = app.search_customers("+86 21 6234 5678").expect("search");
    assert_eq!(zhao.households.len(), 1, "one household for both spellings");
    let view = app
        .household(&zhao.households[0].household_id)
        .expect("view");
    assert_eq!(view.orders.len(), 2);
    assert_eq!(view.appliances.len(), 2, "a washer and a fridge");
    let hh1 = app.household("hh-1").expect("hh-1");
    let imported = hh1
        .orders
        .iter()
        .find(|o| o.external_ref.as_deref() == Some("JD-20261130-001"))
        .expect("the imported order is in 张伟's history");
    assert_eq!(
        imported.appliance_id, "ap-hh1-ac",
        "his registered air-conditioner, by serial"
    );

    let again = app.import_preview(path(&example())).expect("preview again");
    assert_eq!((again.new_orders, again.already_imported), (0, 4));
    assert_eq!(again.rows[0].issues[0].code, Code::ImportAlreadyImported);
    assert_eq!(
        again.rows[0].order_no.as_deref(),
        Some(result.order_nos[0].as_str())
    );
    let twice = app
        .import_commit(ImportCommitRequest {
            source: path(&example()),
            file_sha256: again.file_sha256,
        })
        .expect("importing again is not an error");
    assert_eq!((twice.order_nos.len(), twice.skipped), (0, 4));
    assert_eq!(count_docs(&app, is_order), orders + 4, "no duplicates");

    seeded.restart().await;
    wait_for("the import to reach the relay", || {
        app.sync_status()
            .map(|s| s.pending_changes == 0 && s.last_error.is_none())
            .unwrap_or(false)
    })
    .await;
    seeded.stop().await;
}

const BAD: &str = "外部单号,客户姓名,电话,地址,等级,服务类型,预约日期,问题描述,品类\r\n\
    X-1,张伟,13800000001,上海,金卡,维修,2026-12-01,不制冷,空调\r\n\
    X-2,李四,12345,上海,金卡,维修,2026-12-01,,空调\r\n\
    X-3,王五,13900000001,上海,钻石,清洗,2026-02-30,,空调\r\n\
    X-1,赵六,13900000002,上海,,repair,,,fridge\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_bad_rows_shows_every_error_and_imports_nothing() {
    let mut seeded = Seeded::start().await;
    let app = dispatcher(&seeded).await;
    seeded.kill();
    let orders = count_docs(&app, is_order);

    let preview = app.import_preview(bytes(BAD.as_bytes())).expect("preview");
    let issues = |i: usize| -> Vec<(Code, Option<Column>)> {
        preview.rows[i]
            .issues
            .iter()
            .map(|x| (x.code, x.column))
            .collect()
    };
    assert_eq!(preview.rows[0].status, ImportRowStatus::New);
    assert_eq!(issues(1), [(Code::RegistryBadPhone, Some(Column::Phone))]);
    assert_eq!(
        issues(2),
        [
            (Code::ImportUnknownServiceType, Some(Column::ServiceType)),
            (Code::ImportUnknownTier, Some(Column::Tier)),
            (Code::ImportBadDate, Some(Column::ScheduledDate)),
        ]
    );
    assert_eq!(
        issues(3),
        [(Code::ImportDuplicateInFile, Some(Column::ExternalRef))]
    );
    assert_eq!((preview.invalid, preview.can_commit), (3, false));

    let refused = app
        .import_commit(ImportCommitRequest {
            source: bytes(BAD.as_bytes()),
            file_sha256: preview.file_sha256.clone(),
        })
        .expect_err("bad rows refuse the import");
    assert_eq!(refused.code(), Code::ImportHasErrors);
    assert_eq!(
        count_docs(&app, is_order),
        orders,
        "not even the valid row was imported"
    );

    let fixed = BAD.replace("12345", "13900000003");
    let changed = app
        .import_commit(ImportCommitRequest {
            source: bytes(fixed.as_bytes()),
            file_sha256: preview.file_sha256,
        })
        .expect_err("the file changed since its preview");
    assert_eq!(changed.code(), Code::ImportFileChanged);
    assert_eq!(count_docs(&app, is_order), orders);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_files_and_bad_headers_are_refused_with_their_codes() {
    let mut seeded = Seeded::start().await;
    let app = dispatcher(&seeded).await;
    seeded.kill();
    let code = |src: ImportSource| app.import_preview(src).expect_err("refused").code();
    // "客户" in GBK, as Excel's plain "CSV" writes it.
    assert_eq!(
        code(bytes(&[0xbf, 0xcd, 0xbb, 0xa7, b',', b'x', b'\n'])),
        Code::ImportNotUtf8
    );
    assert_eq!(
        code(bytes("\u{feff}外部单号,电话\r\n,\r\n".as_bytes())),
        Code::ImportEmpty
    );
    assert_eq!(
        code(path(Path::new("/nonexistent/orders.csv"))),
        Code::ImportUnreadable
    );
    assert_eq!(
        code(ImportSource {
            path: None,
            bytes_base64: None
        }),
        Code::InputEmpty
    );
    let header = app
        .import_preview(bytes(
            "外部单号,电话,颜色\nX-1,13800000001,red\n".as_bytes(),
        ))
        .expect("a bad header is a preview, not a failure");
    let issues: Vec<_> = header
        .file_issues
        .iter()
        .map(|i| (i.code, i.column))
        .collect();
    assert!(
        issues.contains(&(Code::ImportUnknownColumn, None)),
        "{issues:?}"
    );
    assert!(issues.contains(&(Code::ImportMissingColumn, Some(Column::CustomerName))));
    assert!(!header.can_commit && header.rows.is_empty());
    let extra = app
        .import_preview(bytes(
            "external_ref,customer_name,phone,address,service_type,category
             X-1,张伟,13800000001,上海市, 浦东新区,repair,空调
"
            .as_bytes(),
        ))
        .expect("preview");
    assert_eq!(
        extra.rows[0].issues.first().map(|i| (i.code, i.column)),
        Some((Code::ImportMalformed, None)),
        "an unquoted comma gives the row a cell too many"
    );
}
