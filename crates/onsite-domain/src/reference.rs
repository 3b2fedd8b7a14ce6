//! Reference documents: owned by dispatchers/admins, read by every device. Checklist templates are
//! versioned (ISO 9001 §7.5.2 a/e): a visit keeps the version it was started with.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{DomainError, Millis};

/// A label in every language the app ships.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Label {
    pub zh_cn: String,
    pub en: String,
}

impl Label {
    pub fn new(zh_cn: &str, en: &str) -> Self {
        Label {
            zh_cn: zh_cn.to_owned(),
            en: en.to_owned(),
        }
    }

    /// The label in `lang` (`"zh-CN"` or anything else for English).
    pub fn get(&self, lang: &str) -> &str {
        if lang.starts_with("zh") {
            &self.zh_cn
        } else {
            &self.en
        }
    }
}

/// The kinds of service an order can be for; each has its own checklist template. Crosses to the
/// UI as is (ts-rs).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize, TS,
)]
pub enum ServiceType {
    Repair,
    Installation,
    Maintenance,
}

impl ServiceType {
    pub const ALL: [ServiceType; 3] = [
        ServiceType::Repair,
        ServiceType::Installation,
        ServiceType::Maintenance,
    ];

    /// The built-in template id for this service type.
    pub fn template_id(self) -> &'static str {
        match self {
            ServiceType::Repair => "repair",
            ServiceType::Installation => "installation",
            ServiceType::Maintenance => "maintenance",
        }
    }

    pub fn label(self) -> Label {
        match self {
            ServiceType::Repair => Label::new("维修", "Repair"),
            ServiceType::Installation => Label::new("安装", "Installation"),
            ServiceType::Maintenance => Label::new("保养", "Maintenance"),
        }
    }
}

/// How an item is answered.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum ItemKind {
    /// Ticked as done (or not applicable with a reason).
    Tick,
    /// Shown to the customer; the app records when (certificate, fee schedule).
    Evidence,
    /// A test with a pass or fail result.
    PassFail,
    /// A measured value in `unit` with an allowed range (ISO 9001 §7.5.1 d/e).
    Reading { unit: String, min: f64, max: f64 },
    /// Confirmed by the customer on the hand-over screen, not by the technician.
    CustomerConfirm { confirmation: Confirmation },
    /// Satisfied by the customer's signature on the service record.
    SignedRecord,
    /// Satisfied by the one-stop check of the household's other appliances.
    HomeCheck,
}

/// What the customer confirms at signing (三到位 usage explained, 四不准 the four don'ts).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Reconcile,
    Hydrate,
    Serialize,
    Deserialize,
)]
pub enum Confirmation {
    UsageExplained,
    NoWater,
    NoSmoke,
    NoMeal,
    NoGift,
}

impl Confirmation {
    pub const ALL: [Confirmation; 5] = [
        Confirmation::UsageExplained,
        Confirmation::NoWater,
        Confirmation::NoSmoke,
        Confirmation::NoMeal,
        Confirmation::NoGift,
    ];
}

/// Whether an item takes photo evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub enum PhotoPolicy {
    None,
    Optional,
    Required,
}

/// One item of a checklist template.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct TemplateItem {
    #[key]
    pub id: String,
    /// Group code, e.g. `one-certificate`, `three-in-place`.
    pub group: String,
    pub label: Label,
    pub kind: ItemKind,
    pub required: bool,
    pub photo: PhotoPolicy,
}

/// A versioned checklist template (the service specification of ISO 9001 §7.5.1 b).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ChecklistTemplate {
    /// `<id>@<version>`, unique in the library.
    #[key]
    pub key: String,
    pub id: String,
    pub version: u32,
    pub title: Label,
    /// `None` for templates that apply to every service type (the Haier 12345 standard).
    pub service_type: Option<ServiceType>,
    /// Tools and equipment the job needs (ISO 9001 §7.5.1 c).
    pub equipment: Vec<String>,
    pub items: Vec<TemplateItem>,
    /// Approved for use (ISO 9001 §7.5.2 a). Unapproved templates are never instantiated.
    pub approved: bool,
}

impl ChecklistTemplate {
    pub fn item(&self, id: &str) -> Option<&TemplateItem> {
        self.items.iter().find(|i| i.id == id)
    }
}

/// The template library reference document (`ref:templates`).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct TemplateLibrary {
    pub schema: u32,
    pub templates: Vec<ChecklistTemplate>,
}

impl TemplateLibrary {
    /// The exact template version a visit refers to.
    pub fn get(&self, id: &str, version: u32) -> Result<&ChecklistTemplate, DomainError> {
        self.templates
            .iter()
            .find(|t| t.id == id && t.version == version)
            .ok_or_else(|| DomainError::UnknownTemplate {
                template_id: id.to_owned(),
                version,
            })
    }

    /// The newest approved version of template `id`, used when a new visit starts.
    pub fn latest(&self, id: &str) -> Option<&ChecklistTemplate> {
        self.templates
            .iter()
            .filter(|t| t.id == id && t.approved)
            .max_by_key(|t| t.version)
    }
}

/// One line of the published fee schedule (二公开).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct FeeItem {
    #[key]
    pub code: String,
    pub label: Label,
    pub category: Label,
    /// Price in fen (CNY cents).
    pub unit_price_cents: i64,
    pub unit: Label,
}

/// The published fee schedule (`ref:fees`).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct FeeSchedule {
    pub schema: u32,
    /// The service company publishing the schedule, named on the customer's record. A document
    /// written before this field existed reads as empty.
    #[autosurgeon(missing = "String::new")]
    #[serde(default)]
    pub company: String,
    pub version: u32,
    pub currency: String,
    pub effective_from_ms: Millis,
    pub items: Vec<FeeItem>,
}

impl FeeSchedule {
    pub fn item(&self, code: &str) -> Result<&FeeItem, DomainError> {
        self.items
            .iter()
            .find(|i| i.code == code)
            .ok_or_else(|| DomainError::UnknownFee(code.to_owned()))
    }
}

/// One spare part in the catalogue.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct CatalogPart {
    #[key]
    pub part_no: String,
    pub name: Label,
    pub unit_price_cents: i64,
    /// Whether the part carries a serial number that must be recorded.
    pub serialised: bool,
}

/// The parts catalogue (`ref:parts`).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct PartsCatalogue {
    pub schema: u32,
    pub parts: Vec<CatalogPart>,
}

impl PartsCatalogue {
    pub fn part(&self, part_no: &str) -> Result<&CatalogPart, DomainError> {
        self.parts
            .iter()
            .find(|p| p.part_no == part_no)
            .ok_or_else(|| DomainError::UnknownPart(part_no.to_owned()))
    }
}

/// A technician's profile (`profile:<id>`): identity, certificate (一证件) and qualifications
/// (ISO 9001 §7.5.2 b).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct TechnicianProfile {
    pub schema: u32,
    pub technician_id: String,
    pub name: String,
    pub phone: String,
    pub certificate_id: String,
    /// Star level of the service qualification certificate (1–5).
    pub certificate_stars: u32,
    pub certificate_expiry_ms: Millis,
    pub qualifications: Vec<ServiceType>,
    /// When a dispatcher withdrew the certificate (it then no longer qualifies, whatever its
    /// expiry). A profile written before this field existed reads as not withdrawn.
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub certificate_withdrawn_at_ms: Option<Millis>,
    // profiles: edited from the console (`crate::profile`).
    /// The first day the certificate is valid (start of that local day). A profile written before
    /// this field existed reads as unknown.
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub certificate_valid_from_ms: Option<Millis>,
    /// Every withdrawal and reinstatement of the certificate (who, when, why), oldest first. A
    /// profile written before this field existed reads as none.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub certificate_actions: Vec<CertificateAction>,
}

/// One withdrawal or reinstatement of a certificate, as recorded on the profile.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct CertificateAction {
    #[key]
    pub id: String,
    pub kind: CertificateActionKind,
    /// The certificate number it applied to.
    pub certificate_id: String,
    pub by: String,
    pub at_ms: Millis,
    pub reason: String,
}

/// What a [`CertificateAction`] did. Crosses to the UI as is (ts-rs).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize, TS,
)]
pub enum CertificateActionKind {
    Withdrawn,
    Reinstated,
}

/// What a certificate says at a moment: the state a customer checks at the door (一证件).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum CertificateState {
    Valid,
    Expired,
    Withdrawn,
}

/// Why a technician cannot take an order (ISO 9001 §7.5.2 b); the dispatcher's picker shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum NotQualified {
    /// The qualifications do not cover the order's service type.
    NotCovered,
    CertificateExpired,
    CertificateWithdrawn,
}

impl TechnicianProfile {
    /// The certificate's state at `now`: a withdrawal wins over the expiry date.
    pub fn certificate_state(&self, now: Millis) -> CertificateState {
        if self.certificate_withdrawn_at_ms.is_some_and(|w| w <= now) {
            CertificateState::Withdrawn
        } else if now < self.certificate_expiry_ms {
            CertificateState::Valid
        } else {
            CertificateState::Expired
        }
    }

    pub fn certificate_valid_at(&self, now: Millis) -> bool {
        self.certificate_state(now) == CertificateState::Valid
    }

    /// Why the technician may not be assigned an order of `service_type` at `now`, if so.
    pub fn not_qualified_for(
        &self,
        service_type: ServiceType,
        now: Millis,
    ) -> Option<NotQualified> {
        match self.certificate_state(now) {
            CertificateState::Withdrawn => Some(NotQualified::CertificateWithdrawn),
            CertificateState::Expired => Some(NotQualified::CertificateExpired),
            CertificateState::Valid if !self.qualifications.contains(&service_type) => {
                Some(NotQualified::NotCovered)
            }
            CertificateState::Valid => None,
        }
    }

    /// Whether the technician may be assigned an order of `service_type` at `now`.
    pub fn qualified_for(&self, service_type: ServiceType, now: Millis) -> bool {
        self.not_qualified_for(service_type, now).is_none()
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;

    use super::*;
    use crate::{doc, seed};

    #[test]
    fn a_withdrawn_certificate_no_longer_qualifies_whatever_its_expiry() {
        let mut p = seed::technician("tech.a", "张师傅", "13900000000", "HC-1", 0);
        assert_eq!(
            p.certificate_state(10),
            CertificateState::Valid,
            "fresh certificate"
        );
        assert_eq!(
            p.not_qualified_for(ServiceType::Repair, 10),
            None,
            "qualified"
        );
        p.qualifications = vec![ServiceType::Installation];
        assert_eq!(
            p.not_qualified_for(ServiceType::Repair, 10),
            Some(NotQualified::NotCovered),
            "repair is not among the qualifications"
        );
        p.certificate_withdrawn_at_ms = Some(5);
        assert_eq!(
            p.certificate_state(4),
            CertificateState::Valid,
            "before the withdrawal"
        );
        assert_eq!(
            p.certificate_state(5),
            CertificateState::Withdrawn,
            "from the withdrawal on"
        );
        assert_eq!(
            p.not_qualified_for(ServiceType::Installation, 10),
            Some(NotQualified::CertificateWithdrawn),
            "withdrawn wins over qualifications"
        );
        p.certificate_withdrawn_at_ms = None;
        assert_eq!(
            p.certificate_state(p.certificate_expiry_ms),
            CertificateState::Expired,
            "expired at its expiry"
        );
    }

    #[test]
    fn a_profile_written_before_withdrawal_existed_still_reads() {
        let p = seed::technician("tech.a", "张师傅", "13900000000", "HC-1", 0);
        let mut old = doc::create(&p).expect("create");
        old.delete(automerge::ROOT, "certificate_withdrawn_at_ms")
            .expect("drop the field");
        old.commit();
        let read: TechnicianProfile = doc::read(&old).expect("an older profile still hydrates");
        assert_eq!(read, p, "a missing withdrawal reads as none");
    }

    #[test]
    fn a_fee_schedule_written_before_the_company_field_still_reads() {
        let fees = seed::fee_schedule(0);
        assert_eq!(fees.company, seed::COMPANY, "the seed names its company");
        let mut old = doc::create(&fees).expect("create");
        old.delete(automerge::ROOT, "company")
            .expect("drop the field");
        old.commit();
        let read: FeeSchedule = doc::read(&old).expect("an older schedule still hydrates");
        assert_eq!(read.company, "", "a missing company reads as empty");
        assert_eq!(read.items, fees.items, "everything else is kept");
    }
}
