//! The built-in checklist templates: `haier-12345` (the 一证件·二公开·三到位·四不准·五个一 star
//! service standard, exactly the items of `shared/standards/service-standards.md`) and one template
//! per service type. Item ids are stable: signed records refer to them.

use crate::reference::{
    ChecklistTemplate, Confirmation, ItemKind, Label, PhotoPolicy, ServiceType, TemplateItem,
    TemplateLibrary,
};
use Kind::{Confirm, Evidence, HomeCheck, PassFail, Reading, SignedRecord, Tick};
use PhotoPolicy as P;

/// Id of the Haier-style star service standard template.
pub const HAIER_12345: &str = "haier-12345";

/// Schema version written into every reference document this build creates.
pub const SCHEMA: u32 = 1;

/// One template item as constant data; [`items`] turns a table of rows into template items.
struct Row {
    id: &'static str,
    group: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: Kind,
    required: bool,
    photo: PhotoPolicy,
}

/// An [`ItemKind`] as constant data.
#[derive(Clone, Copy)]
enum Kind {
    Tick,
    Evidence,
    PassFail,
    /// Unit, allowed minimum and maximum.
    Reading(&'static str, f64, f64),
    Confirm(Confirmation),
    SignedRecord,
    HomeCheck,
}

const fn row(
    id: &'static str,
    group: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: Kind,
    required: bool,
    photo: PhotoPolicy,
) -> Row {
    Row {
        id,
        group,
        zh,
        en,
        kind,
        required,
        photo,
    }
}

impl Kind {
    fn item_kind(self) -> ItemKind {
        match self {
            Tick => ItemKind::Tick,
            Evidence => ItemKind::Evidence,
            PassFail => ItemKind::PassFail,
            Reading(unit, min, max) => ItemKind::Reading {
                unit: unit.to_owned(),
                min,
                max,
            },
            Confirm(confirmation) => ItemKind::CustomerConfirm { confirmation },
            SignedRecord => ItemKind::SignedRecord,
            HomeCheck => ItemKind::HomeCheck,
        }
    }
}

/// The template items of a table of rows, in order.
fn items(rows: &[Row]) -> Vec<TemplateItem> {
    rows.iter()
        .map(|r| TemplateItem {
            id: r.id.to_owned(),
            group: r.group.to_owned(),
            label: Label::new(r.zh, r.en),
            kind: r.kind.item_kind(),
            required: r.required,
            photo: r.photo,
        })
        .collect()
}

fn template(
    id: &str,
    title: Label,
    service_type: Option<ServiceType>,
    equipment: &[&str],
    items: Vec<TemplateItem>,
) -> ChecklistTemplate {
    ChecklistTemplate {
        key: format!("{id}@1"),
        id: id.to_owned(),
        version: 1,
        title,
        service_type,
        equipment: equipment.iter().map(|s| (*s).to_owned()).collect(),
        items,
        approved: true,
    }
}

/// `haier-12345` version 1: the fifteen items of the star service standard.
pub fn haier_12345() -> ChecklistTemplate {
    template(
        HAIER_12345,
        Label::new(
            "星级服务标准：一证件·二公开·三到位·四不准·五个一",
            "Star service standard: 1 certificate · 2 public · 3 in place · 4 don'ts · 5 ones",
        ),
        None,
        &[],
        items(HAIER_12345_ITEMS),
    )
}

/// `repair` version 1.
pub fn repair() -> ChecklistTemplate {
    template(
        "repair",
        Label::new("维修作业规范", "Repair procedure"),
        Some(ServiceType::Repair),
        &["multimeter", "insulation tester", "manifold gauge"],
        items(REPAIR_ITEMS),
    )
}

/// `installation` version 1.
pub fn installation() -> ChecklistTemplate {
    template(
        "installation",
        Label::new("安装作业规范", "Installation procedure"),
        Some(ServiceType::Installation),
        &["drill", "level", "vacuum pump", "earth tester"],
        items(INSTALLATION_ITEMS),
    )
}

/// `maintenance` version 1.
pub fn maintenance() -> ChecklistTemplate {
    template(
        "maintenance",
        Label::new("保养作业规范", "Maintenance procedure"),
        Some(ServiceType::Maintenance),
        &["cleaning kit", "manifold gauge", "multimeter"],
        items(MAINTENANCE_ITEMS),
    )
}

/// The fifteen items of the star service standard, in the order of the standards page.
const HAIER_12345_ITEMS: &[Row] = &[
    row(
        "cert.shown",
        "one-certificate",
        "上门服务时出示“星级服务资格证”",
        "Show the star-service qualification certificate on arrival",
        Evidence,
        true,
        P::None,
    ),
    row(
        "fees.published",
        "two-public",
        "公开出示统一收费标准",
        "Show the unified fee schedule to the customer",
        Evidence,
        true,
        P::None,
    ),
    row(
        "record.signed",
        "two-public",
        "公开一票到底的服务记录单，服务完毕后请用户签署意见",
        "One-ticket service record, signed with the customer's comments when done",
        SignedRecord,
        true,
        P::None,
    ),
    row(
        "site.cleaned",
        "three-in-place",
        "服务后清理现场到位",
        "Site cleaned up after service",
        Tick,
        true,
        P::Optional,
    ),
    row(
        "power.tested",
        "three-in-place",
        "服务后通电试机演示到位",
        "Power-on test run demonstrated after service",
        PassFail,
        true,
        P::Optional,
    ),
    row(
        "usage.explained",
        "three-in-place",
        "服务后向用户讲解使用知识到位",
        "Usage and care explained to the customer",
        Confirm(Confirmation::UsageExplained),
        true,
        P::None,
    ),
    row(
        "no.water",
        "four-donts",
        "不喝用户的水",
        "Did not drink the customer's water",
        Confirm(Confirmation::NoWater),
        true,
        P::None,
    ),
    row(
        "no.smoke",
        "four-donts",
        "不抽用户的烟",
        "Did not smoke the customer's cigarettes",
        Confirm(Confirmation::NoSmoke),
        true,
        P::None,
    ),
    row(
        "no.meal",
        "four-donts",
        "不吃用户的饭",
        "Did not eat the customer's food",
        Confirm(Confirmation::NoMeal),
        true,
        P::None,
    ),
    row(
        "no.gift",
        "four-donts",
        "不要用户的礼品",
        "Accepted no gifts from the customer",
        Confirm(Confirmation::NoGift),
        true,
        P::None,
    ),
    row(
        "card.given",
        "five-ones",
        "递上一张名片",
        "Handed over a business card",
        Tick,
        true,
        P::None,
    ),
    row(
        "shoe.covers",
        "five-ones",
        "穿上一副鞋套",
        "Wore a pair of shoe covers",
        Tick,
        true,
        P::Optional,
    ),
    row(
        "mat.laid",
        "five-ones",
        "配备一块垫布",
        "Laid down a mat cloth for tools and parts",
        Tick,
        true,
        P::Optional,
    ),
    row(
        "cloth.brought",
        "five-ones",
        "自带一块抹布",
        "Brought own wiping cloth",
        Tick,
        true,
        P::None,
    ),
    row(
        "home.check",
        "five-ones",
        "提供一站式产品通检服务",
        "One-stop check of the household's other appliances",
        HomeCheck,
        true,
        P::None,
    ),
];

/// Items of `repair` version 1.
const REPAIR_ITEMS: &[Row] = &[
    row(
        "repair.symptom",
        "diagnosis",
        "确认故障现象",
        "Fault symptom confirmed",
        Tick,
        true,
        P::None,
    ),
    row(
        "repair.fault_photo",
        "diagnosis",
        "拍摄故障部位",
        "Photo of the faulty part",
        Tick,
        true,
        P::Required,
    ),
    row(
        "repair.supply_voltage",
        "measurement",
        "电源电压",
        "Supply voltage",
        Reading("V", 198.0, 242.0),
        true,
        P::None,
    ),
    row(
        "repair.insulation",
        "measurement",
        "绝缘电阻",
        "Insulation resistance",
        Reading("MΩ", 2.0, 10_000.0),
        true,
        P::None,
    ),
    row(
        "repair.refrigerant_pressure",
        "measurement",
        "冷媒低压压力",
        "Refrigerant low-side pressure",
        Reading("MPa", 0.4, 1.2),
        false,
        P::None,
    ),
    row(
        "repair.part_replaced",
        "repair",
        "更换故障配件",
        "Faulty part replaced",
        Tick,
        true,
        P::Optional,
    ),
    row(
        "repair.run_test",
        "verification",
        "修复后运行测试",
        "Run test after repair",
        PassFail,
        true,
        P::None,
    ),
];

/// Items of `installation` version 1.
const INSTALLATION_ITEMS: &[Row] = &[
    row(
        "inst.site_survey",
        "preparation",
        "安装位置勘察",
        "Installation site surveyed",
        Tick,
        true,
        P::None,
    ),
    row(
        "inst.mounting",
        "installation",
        "固定牢固、水平",
        "Mounted firmly and level",
        PassFail,
        true,
        P::Required,
    ),
    row(
        "inst.earth",
        "measurement",
        "接地电阻",
        "Earth resistance",
        Reading("Ω", 0.0, 4.0),
        true,
        P::None,
    ),
    row(
        "inst.supply_voltage",
        "measurement",
        "电源电压",
        "Supply voltage",
        Reading("V", 198.0, 242.0),
        true,
        P::None,
    ),
    row(
        "inst.vacuum",
        "measurement",
        "抽真空压力",
        "Vacuum pressure",
        Reading("Pa", 0.0, 60.0),
        false,
        P::None,
    ),
    row(
        "inst.drain",
        "verification",
        "排水测试",
        "Drain test",
        PassFail,
        true,
        P::None,
    ),
    row(
        "inst.trial_run",
        "verification",
        "试机运行",
        "Trial run",
        PassFail,
        true,
        P::None,
    ),
];

/// Items of `maintenance` version 1.
const MAINTENANCE_ITEMS: &[Row] = &[
    row(
        "maint.filter",
        "cleaning",
        "清洗过滤网",
        "Filter cleaned",
        Tick,
        true,
        P::Optional,
    ),
    row(
        "maint.coil",
        "cleaning",
        "清洗蒸发器/冷凝器",
        "Coils cleaned",
        Tick,
        true,
        P::Optional,
    ),
    row(
        "maint.supply_voltage",
        "measurement",
        "电源电压",
        "Supply voltage",
        Reading("V", 198.0, 242.0),
        true,
        P::None,
    ),
    row(
        "maint.refrigerant_pressure",
        "measurement",
        "冷媒低压压力",
        "Refrigerant low-side pressure",
        Reading("MPa", 0.4, 1.2),
        true,
        P::None,
    ),
    row(
        "maint.run_test",
        "verification",
        "保养后运行测试",
        "Run test after maintenance",
        PassFail,
        true,
        P::None,
    ),
];

/// The built-in library: every template above, version 1.
pub fn builtin_library() -> TemplateLibrary {
    TemplateLibrary {
        schema: SCHEMA,
        templates: vec![haier_12345(), repair(), installation(), maintenance()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haier_template_has_exactly_the_fifteen_standard_items() {
        let t = haier_12345();
        let ids: Vec<&str> = t.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "cert.shown",
                "fees.published",
                "record.signed",
                "site.cleaned",
                "power.tested",
                "usage.explained",
                "no.water",
                "no.smoke",
                "no.meal",
                "no.gift",
                "card.given",
                "shoe.covers",
                "mat.laid",
                "cloth.brought",
                "home.check"
            ],
            "item ids are referenced by signed records and must not drift from the standards page"
        );
        assert!(
            t.items
                .iter()
                .all(|i| !i.label.zh_cn.is_empty() && !i.label.en.is_empty())
        );
    }

    #[test]
    fn every_service_type_has_an_approved_template() {
        let lib = builtin_library();
        for st in ServiceType::ALL {
            let t = lib
                .latest(st.template_id())
                .expect("template for service type");
            assert_eq!(t.service_type, Some(st));
            assert!(t.approved);
        }
    }

    #[test]
    fn template_item_ids_are_unique() {
        for t in builtin_library().templates {
            let mut ids: Vec<_> = t.items.iter().map(|i| &i.id).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), t.items.len(), "duplicate item id in {}", t.id);
        }
    }
}
