//! The CSV import's rules on split rows: headers and values in zh-CN or en, a verdict with stable
//! codes per row, households matched by phone, and what an import builds.

use std::collections::BTreeMap;

use onsite_domain::Code;
use onsite_domain::household::Household;
use onsite_domain::import::{
    self, Column, Fresh, HouseholdMatch, Issue, Known, Verdict, build, check, read_header,
};
use onsite_domain::order::Tier;
use onsite_domain::reference::ServiceType;
use onsite_domain::seed;
use onsite_domain::sla::SlaPolicy;
use onsite_testkit::DAY;

const HOUR: i64 = onsite_domain::HOUR;

fn cells(line: &str) -> Vec<String> {
    line.split(',').map(str::to_owned).collect()
}

const ZH_HEADER: &str = "\u{feff}外部单号,客户姓名,电话,地址,等级,服务类型,预约日期,预约时段,问题描述,品类,品牌,型号,序列号";
const EN_HEADER: &str = "external_ref,Customer Name,phone,address,tier,service-type,scheduled_date,time_window,problem,category,brand,model,serial";

fn header() -> import::Header {
    read_header(&cells(ZH_HEADER)).expect("the documented zh-CN header")
}

fn codes(v: &Verdict) -> Vec<(Code, Option<Column>)> {
    match v {
        Verdict::Invalid(issues) => issues.iter().map(|i| (i.code, i.column)).collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

fn no_known() -> (Vec<Household>, BTreeMap<String, String>) {
    (Vec::new(), BTreeMap::new())
}

#[test]
fn headers_in_either_language_name_the_same_columns() {
    let zh = header();
    let en = read_header(&cells(EN_HEADER)).expect("the documented English header");
    assert_eq!(zh, en, "zh-CN and en headers map to the same columns");
    for c in Column::ALL {
        assert_eq!(
            Column::from_header(c.headers()[0]),
            Some(c),
            "{c:?} by its English header"
        );
        assert_eq!(
            Column::from_header(c.headers()[1]),
            Some(c),
            "{c:?} by its Chinese header"
        );
    }
}

#[test]
fn a_bad_header_names_every_problem() {
    let issues = read_header(&cells("电话,phone,颜色,地址,,")).expect_err("bad header");
    let got: Vec<(Code, Option<Column>)> = issues.iter().map(|i| (i.code, i.column)).collect();
    assert!(got.contains(&(Code::ImportDuplicateColumn, Some(Column::Phone))));
    assert!(got.contains(&(Code::ImportUnknownColumn, None)));
    for missing in [
        Column::ExternalRef,
        Column::CustomerName,
        Column::ServiceType,
        Column::Category,
    ] {
        assert!(
            got.contains(&(Code::ImportMissingColumn, Some(missing))),
            "{missing:?} is required: {got:?}"
        );
    }
    assert!(
        !got.iter().any(|(_, c)| *c == Some(Column::Address)),
        "blank trailing header cells are ignored and address is present"
    );
}

#[test]
fn values_in_zh_cn_or_en_read_the_same() {
    let h = header();
    let (hh, refs) = no_known();
    let rows = vec![
        cells(
            "A-1,张伟,138 0000 0001,上海市 1 号,金卡,维修,2026-11-30,09:00-11:00,不制冷,空调,Haier,KFR-35GW,SN1",
        ),
        cells(
            "A-2,Zhang Wei,+86 138-0000-0001,Shanghai 1,gold,Repair,2026/11/30,9:00～11:00,not cooling,air-conditioner,Haier,KFR-35GW,SN1",
        ),
    ];
    let checked = check(
        &h,
        &rows,
        Known {
            households: &hh,
            imported: &refs,
        },
        8 * HOUR,
    );
    let read: Vec<_> = checked
        .iter()
        .map(|r| match &r.verdict {
            Verdict::New { row, .. } => (
                row.phone.clone(),
                row.tier,
                row.service_type,
                row.schedule,
                row.appliance.category.clone(),
            ),
            other => panic!("row {} must be valid: {other:?}", r.row_no),
        })
        .collect();
    assert_eq!(read[0], read[1], "the same order in either language");
    let (phone, tier, service, schedule, category) = &read[0];
    assert_eq!(phone, "13800000001");
    assert_eq!(*tier, Some(Tier::Gold));
    assert_eq!(*service, ServiceType::Repair);
    assert_eq!(category, "air-conditioner");
    let w = schedule.expect("scheduled");
    // 2026-11-30 is DAY; 09:00 at UTC+8 is 01:00 UTC.
    assert_eq!(
        (w.start_ms, w.end_ms),
        (DAY + HOUR, DAY + 3 * HOUR),
        "local time at UTC+8"
    );
    assert_eq!(
        checked[0].row_no, 2,
        "rows are numbered as in the spreadsheet"
    );
}

#[test]
fn every_bad_value_is_reported_with_its_code_and_column() {
    let h = header();
    let (hh, refs) = no_known();
    let rows = vec![
        cells("B-1,张伟,12345,上海,钻石,清洗,2026-02-30,,问题,空调,,,"),
        cells("B-2,,13800000002,,普通,安装,2026/13/1,25:00-26:00,,,,,"),
        cells("B-3,李娜,13800000002,上海,,保养,,10:00-12:00,,冰箱,,,"),
        cells("B-4,李娜,13800000002,上海,,保养,2026-12-03,12:00-10:00,,冰箱,,,"),
    ];
    let checked = check(
        &h,
        &rows,
        Known {
            households: &hh,
            imported: &refs,
        },
        0,
    );
    assert_eq!(
        codes(&checked[0].verdict),
        [
            (Code::RegistryBadPhone, Some(Column::Phone)),
            (Code::ImportUnknownServiceType, Some(Column::ServiceType)),
            (Code::ImportUnknownTier, Some(Column::Tier)),
            (Code::ImportBadDate, Some(Column::ScheduledDate)),
        ]
    );
    assert_eq!(
        codes(&checked[1].verdict),
        [
            (Code::ImportMissingValue, Some(Column::CustomerName)),
            (Code::ImportMissingValue, Some(Column::Address)),
            (Code::ImportMissingValue, Some(Column::Category)),
            (Code::ImportBadDate, Some(Column::ScheduledDate)),
        ]
    );
    assert_eq!(
        codes(&checked[2].verdict),
        [(Code::ImportMissingValue, Some(Column::ScheduledDate))],
        "a time window needs a date"
    );
    assert_eq!(
        codes(&checked[3].verdict),
        [(Code::ImportBadTimeWindow, Some(Column::TimeWindow))],
        "the window must end after it starts"
    );
    let Verdict::Invalid(issues) = &checked[0].verdict else {
        unreachable!()
    };
    assert_eq!(
        issues[0],
        Issue {
            code: Code::RegistryBadPhone,
            column: Some(Column::Phone),
            value: "12345".into()
        },
        "the offending text is shown"
    );
}

#[test]
fn external_references_are_unique_in_the_file_and_skipped_once_imported() {
    let h = header();
    let hh = Vec::new();
    let refs = BTreeMap::from([("C-1".to_owned(), "WO-7".to_owned())]);
    let row = |r: &str| cells(&format!("{r},张伟,13800000001,上海,,维修,,,,空调,,,"));
    let checked = check(
        &h,
        &[row("C-1"), row("C-2"), row("C-2")],
        Known {
            households: &hh,
            imported: &refs,
        },
        0,
    );
    assert_eq!(
        checked[0].verdict,
        Verdict::AlreadyImported {
            external_ref: "C-1".into(),
            order_no: "WO-7".into()
        }
    );
    assert!(matches!(checked[1].verdict, Verdict::New { .. }));
    assert_eq!(
        codes(&checked[2].verdict),
        [(Code::ImportDuplicateInFile, Some(Column::ExternalRef))]
    );
}

#[test]
fn rows_find_their_household_by_phone_and_build_orders_with_their_reference() {
    let h = header();
    let registry = vec![seed::household(0, DAY)];
    let refs = BTreeMap::new();
    let known = Known {
        households: &registry,
        imported: &refs,
    };
    let rows = vec![
        // 张伟's registered air-conditioner (same serial), and a new washer.
        cells("D-1,张先生,138-0000-0001,别处,,维修,,,不制冷,空调,Haier,KFR-35GW/03,SN4200000000"),
        cells("D-2,张伟,13800000001,,,安装,,,,洗衣机,Little Swan,TG100,"),
        // A new customer with two rows: one household.
        cells("D-3,赵敏,021-12345678,上海市长宁区 9 号,白金,维修,,,,冰箱,Haier,BCD,"),
        cells("D-4,赵敏,02112345678,上海市长宁区 9 号,,保养,,,,冰箱,Haier,BCD,"),
    ];
    // D-2 has no address: it is required even for a known phone.
    let checked = check(&h, &rows, known, 0);
    assert_eq!(
        codes(&checked[1].verdict),
        [(Code::ImportMissingValue, Some(Column::Address))]
    );
    let (mut k, mut m) = (0, 0);
    let mut id = || {
        k += 1;
        format!("t{k}")
    };
    let mut order_no = |_| {
        m += 1;
        format!("WO-T{m}")
    };
    let err = build(
        &checked,
        known,
        Fresh {
            id: &mut id,
            order_no: &mut order_no,
        },
        &SlaPolicy::default(),
        DAY,
    )
    .expect_err("an invalid row refuses the whole import");
    assert_eq!(err.code(), "import.has_errors");

    let mut rows = rows;
    rows[1][3] = "上海".into();
    let checked = check(&h, &rows, known, 0);
    let households: Vec<_> = checked
        .iter()
        .map(|r| match &r.verdict {
            Verdict::New { household, .. } => household.clone(),
            other => panic!("valid: {other:?}"),
        })
        .collect();
    let existing = HouseholdMatch::Existing {
        household_id: "hh-1".into(),
        name: "张伟".into(),
    };
    assert_eq!(
        households,
        [
            existing.clone(),
            existing,
            HouseholdMatch::New,
            HouseholdMatch::SameAsRow(4)
        ]
    );
    let import = build(
        &checked,
        known,
        Fresh {
            id: &mut id,
            order_no: &mut order_no,
        },
        &SlaPolicy::default(),
        DAY,
    )
    .expect("build");
    assert_eq!(import.orders.len(), 4);
    assert_eq!(
        import.new_households.len(),
        1,
        "赵敏's two rows make one household"
    );
    let zhao = &import.new_households[0];
    assert_eq!(
        (zhao.phones.as_slice(), zhao.tier),
        (&["02112345678".to_owned()][..], Tier::Platinum)
    );
    assert_eq!(
        zhao.appliances.len(),
        1,
        "the same fridge twice is one appliance"
    );
    assert_eq!(
        import.added_appliances.len(),
        1,
        "the washer is new to 张伟's household"
    );
    assert_eq!(import.added_appliances[0].0, "hh-1");
    let d1 = &import.orders[0];
    assert_eq!(d1.external_ref.as_deref(), Some("D-1"));
    assert_eq!(d1.appliance_id, "ap-hh1-ac", "matched by serial");
    assert_eq!(
        d1.customer.name, "张伟",
        "the registry's name wins over the file's"
    );
    assert_eq!(d1.customer.tier, Tier::Gold);
    assert!(
        import.orders.iter().all(|o| o.order_no.starts_with("WO-T")),
        "numbers come from the closure"
    );
}

#[test]
fn the_seed_registry_matches_the_seed_orders() {
    for n in 0..8 {
        let order = seed::order(n, DAY);
        let h = seed::household(n as usize % seed::HOUSEHOLDS, DAY);
        assert_eq!(
            h.customer(),
            order.customer,
            "order {n} copies its household's customer"
        );
        assert_eq!(h.appliances, order.appliances, "and its appliances");
    }
}
