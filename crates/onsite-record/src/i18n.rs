//! The record's fixed wording in zh-CN and en. Item labels come from the checklist templates; the
//! words here are the record's own headings and the names of things the templates do not label.

use onsite_domain::progress::ProgressKind;
use onsite_domain::reference::Confirmation;
use serde::{Deserialize, Serialize};

/// The language a record or page is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// `zh`, `zh-CN`, `zh-Hans…` → Chinese; anything else → English.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.trim().to_ascii_lowercase().starts_with("zh") {
            Lang::ZhCn
        } else {
            Lang::En
        }
    }

    /// BCP 47 tag, also what [`onsite_domain::reference::Label::get`] takes.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub(crate) fn words(self) -> &'static Words {
        match self {
            Lang::ZhCn => &ZH,
            Lang::En => &EN,
        }
    }
}

/// Fixed wording of one language.
#[derive(Debug)]
pub(crate) struct Words {
    pub title: &'static str,
    pub order_no: &'static str,
    pub customer: &'static str,
    pub address: &'static str,
    pub appliance: &'static str,
    pub service_type: &'static str,
    pub technician: &'static str,
    pub certificate: &'static str,
    pub signed_by: &'static str,
    pub signed_at: &'static str,
    pub item: &'static str,
    pub result: &'static str,
    pub measurements: &'static str,
    pub value: &'static str,
    pub allowed_range: &'static str,
    pub in_range: &'static str,
    pub out_of_range: &'static str,
    pub done: &'static str,
    pub pass: &'static str,
    pub fail: &'static str,
    pub not_applicable: &'static str,
    pub unanswered: &'static str,
    pub confirmed_by_customer: &'static str,
    pub not_confirmed: &'static str,
    pub signed_by_customer: &'static str,
    pub photos: &'static str,
    pub note: &'static str,
    pub home_checks: &'static str,
    pub check_ok: &'static str,
    pub check_needs_service: &'static str,
    pub work: &'static str,
    pub diagnosis: &'static str,
    pub work_performed: &'static str,
    pub parts: &'static str,
    pub part: &'static str,
    pub part_no: &'static str,
    pub qty: &'static str,
    pub unit_price: &'static str,
    pub amount: &'static str,
    pub faulty_serial: &'static str,
    pub new_serial: &'static str,
    pub personal_stock: &'static str,
    pub warehouse: &'static str,
    pub fees: &'static str,
    pub parts_subtotal: &'static str,
    pub total: &'static str,
    pub confirmations: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub rating: &'static str,
    pub stars: &'static str,
    pub comment: &'static str,
    pub progress: &'static str,
    pub step: &'static str,
    pub time: &'static str,
    pub signature: &'static str,
    pub verification: &'static str,
    pub record_hash: &'static str,
    pub verify_at: &'static str,
    pub scan_to_verify: &'static str,
    pub valid: &'static str,
    pub modified: &'static str,
    pub modified_sections: &'static str,
    pub page: &'static str,
    pub none: &'static str,
    pub verify_title: &'static str,
    pub verify_valid: &'static str,
    pub verify_not_valid: &'static str,
    pub verify_unknown: &'static str,
    pub verify_unknown_detail: &'static str,
    pub reason_modified: &'static str,
    pub reason_superseded: &'static str,
    pub verify_privacy: &'static str,
}

static ZH: Words = Words {
    title: "一票到底服务记录单",
    order_no: "工单号",
    customer: "用户",
    address: "地址",
    appliance: "产品",
    service_type: "服务类型",
    technician: "服务工程师",
    certificate: "星级服务资格证号",
    signed_by: "签字人",
    signed_at: "签字时间",
    item: "项目",
    result: "结果",
    measurements: "测量数据",
    value: "测量值",
    allowed_range: "允许范围",
    in_range: "在范围内",
    out_of_range: "超出范围",
    done: "已完成",
    pass: "合格",
    fail: "不合格",
    not_applicable: "不适用",
    unanswered: "未填写",
    confirmed_by_customer: "用户已确认",
    not_confirmed: "用户未确认",
    signed_by_customer: "用户已签字",
    photos: "张照片",
    note: "备注",
    home_checks: "一站式产品通检",
    check_ok: "正常",
    check_needs_service: "需要服务",
    work: "故障与处理",
    diagnosis: "故障诊断",
    work_performed: "处理措施",
    parts: "更换配件",
    part: "配件",
    part_no: "编号",
    qty: "数量",
    unit_price: "单价",
    amount: "金额",
    faulty_serial: "旧件序列号",
    new_serial: "新件序列号",
    personal_stock: "个人备件库",
    warehouse: "仓库",
    fees: "收费明细",
    parts_subtotal: "配件小计",
    total: "合计",
    confirmations: "用户确认",
    yes: "是",
    no: "否",
    rating: "服务评价",
    stars: "星级",
    comment: "用户意见",
    progress: "服务过程",
    step: "环节",
    time: "时间",
    signature: "用户签字",
    verification: "防篡改校验",
    record_hash: "记录哈希 (SHA-256)",
    verify_at: "校验网址",
    scan_to_verify: "扫码校验本记录",
    valid: "校验通过：签字后未被修改",
    modified: "警告：本记录在签字后被修改，签字不再有效",
    modified_sections: "被修改的部分",
    page: "页",
    none: "无",
    verify_title: "服务记录校验",
    verify_valid: "有效",
    verify_not_valid: "无效",
    verify_unknown: "未知",
    verify_unknown_detail: "未找到与此链接对应的已签字服务记录。",
    reason_modified: "该记录在签字后被修改。",
    reason_superseded: "该签字已在记录重新打开更正时作废。",
    verify_privacy: "本页面不显示任何用户个人信息。",
};

static EN: Words = Words {
    title: "Service record",
    order_no: "Order no.",
    customer: "Customer",
    address: "Address",
    appliance: "Appliance",
    service_type: "Service type",
    technician: "Technician",
    certificate: "Star-service certificate no.",
    signed_by: "Signed by",
    signed_at: "Signed at",
    item: "Item",
    result: "Result",
    measurements: "Measurements",
    value: "Value",
    allowed_range: "Allowed range",
    in_range: "in range",
    out_of_range: "OUT OF RANGE",
    done: "Done",
    pass: "Pass",
    fail: "Fail",
    not_applicable: "Not applicable",
    unanswered: "Not answered",
    confirmed_by_customer: "Confirmed by the customer",
    not_confirmed: "Not confirmed by the customer",
    signed_by_customer: "Signed by the customer",
    photos: "photo(s)",
    note: "Note",
    home_checks: "One-stop home check",
    check_ok: "OK",
    check_needs_service: "Needs service",
    work: "Diagnosis and work",
    diagnosis: "Diagnosis",
    work_performed: "Work performed",
    parts: "Parts replaced",
    part: "Part",
    part_no: "Part no.",
    qty: "Qty",
    unit_price: "Unit price",
    amount: "Amount",
    faulty_serial: "Old serial",
    new_serial: "New serial",
    personal_stock: "Personal stock",
    warehouse: "Warehouse",
    fees: "Charges",
    parts_subtotal: "Parts subtotal",
    total: "Total",
    confirmations: "Customer confirmations",
    yes: "Yes",
    no: "No",
    rating: "Customer rating",
    stars: "Stars",
    comment: "Comment",
    progress: "Visit timeline",
    step: "Step",
    time: "Time",
    signature: "Customer signature",
    verification: "Tamper check",
    record_hash: "Record hash (SHA-256)",
    verify_at: "Verify at",
    scan_to_verify: "Scan to verify this record",
    valid: "Verified: unchanged since signing",
    modified: "WARNING: this record was modified after signing; the signature no longer holds",
    modified_sections: "Modified parts",
    page: "Page",
    none: "None",
    verify_title: "Service record check",
    verify_valid: "Valid",
    verify_not_valid: "Not valid",
    verify_unknown: "Unknown",
    verify_unknown_detail: "No signed service record matches this link.",
    reason_modified: "The record was modified after it was signed.",
    reason_superseded: "This signature was withdrawn when the record was reopened for correction.",
    verify_privacy: "This page shows no personal data of the customer.",
};

/// Heading of a template item group (`one-certificate`, `measurement`, …).
pub(crate) fn group_label(group: &str, lang: Lang) -> Option<&'static str> {
    let (zh, en) = match group {
        "one-certificate" => ("一证件", "1 certificate"),
        "two-public" => ("二公开", "2 public"),
        "three-in-place" => ("三到位", "3 in place"),
        "four-donts" => ("四不准", "4 don'ts"),
        "five-ones" => ("五个一", "5 ones"),
        "diagnosis" => ("诊断", "Diagnosis"),
        "measurement" => ("测量", "Measurement"),
        "repair" => ("维修", "Repair"),
        "verification" => ("验证", "Verification"),
        "preparation" => ("准备", "Preparation"),
        "installation" => ("安装", "Installation"),
        "cleaning" => ("清洁", "Cleaning"),
        _ => return None,
    };
    Some(match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    })
}

/// Name of a progress step.
pub(crate) fn progress_label(kind: ProgressKind, lang: Lang) -> &'static str {
    let (zh, en) = match kind {
        ProgressKind::Accepted => ("接单", "Accepted"),
        ProgressKind::EnRoute => ("出发", "En route"),
        ProgressKind::Arrived => ("到达", "Arrived"),
        ProgressKind::WorkStarted => ("开始作业", "Work started"),
        ProgressKind::WorkDone => ("作业完成", "Work done"),
        ProgressKind::Signed => ("用户签字", "Signed"),
        ProgressKind::Reopened => ("重新打开", "Reopened"),
    };
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

/// Fallback wording of a confirmation when the template that labels it is not on the device.
pub(crate) fn confirmation_label(c: Confirmation, lang: Lang) -> &'static str {
    let (zh, en) = match c {
        Confirmation::UsageExplained => ("已讲解使用知识", "Usage explained"),
        Confirmation::NoWater => ("未喝用户的水", "Did not drink the customer's water"),
        Confirmation::NoSmoke => ("未抽用户的烟", "Did not smoke the customer's cigarettes"),
        Confirmation::NoMeal => ("未吃用户的饭", "Did not eat the customer's food"),
        Confirmation::NoGift => ("未收用户礼品", "Accepted no gifts"),
    };
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

/// Name of a signed-record section (what `Verification::ModifiedAfterSigning` lists).
pub(crate) fn section_label(section: &str, lang: Lang) -> String {
    let (zh, en) = match section {
        "order" => ("工单与用户信息", "order and customer"),
        "technician" => ("服务工程师", "technician"),
        "checklists" => ("检查项目与测量", "checklists and readings"),
        "parts" => ("配件", "parts"),
        "fees" => ("收费", "charges"),
        "notes" => ("故障与处理", "diagnosis and work"),
        "confirmations" => ("用户确认", "customer confirmations"),
        "rating" => ("评价", "rating"),
        "home_checks" => ("通检", "home check"),
        "progress" => ("服务过程时间", "visit timeline"),
        "signature" => ("签字", "signature"),
        other => return other.to_owned(),
    };
    match lang {
        Lang::ZhCn => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}
