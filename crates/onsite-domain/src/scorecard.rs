//! The GB/T 27922-2011 self-assessment scorecard (商品售后服务评价体系): the indicators the service
//! records can measure, each with its figure and the evidence behind it, and the ones they cannot,
//! listed as such rather than given an invented figure.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::completion::{self, ItemState};
use crate::reference::TemplateLibrary;
use crate::stats::{self, Average, Figures, Month, Rate, StatsContext};
use crate::templates::HAIER_12345;
use crate::visit::Visit;

/// The standard's three groups of indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum IndicatorGroup {
    /// 售后服务体系: organisation, staffing, resources, management.
    ServiceSystem,
    /// 商品服务: installation, repair and maintenance quality, parts, warranty.
    ProductService,
    /// 顾客服务: responsiveness, courtesy, fees, complaints, satisfaction.
    CustomerService,
}

/// One indicator of the scorecard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum Indicator {
    /// Service commitment kept: respond, arrive and complete targets of the tier all met.
    ServiceCommitmentKept,
    /// Response in time: the tier's response target met.
    ResponseTime,
    /// On-site standard followed: every item of the Haier 12345 checklist answered as required.
    OnSiteStandard,
    /// Customer satisfaction: the mean of the ratings.
    CustomerSatisfaction,
    /// Complaint handling.
    ComplaintHandling,
    /// Repeat repairs (返修): a new order on the same appliance within 30 days.
    RepeatRepairs,
    /// Organisation of after-sales service.
    Organisation,
    /// Staffing and qualification as a system (training, numbers).
    Staffing,
    /// Resources: premises, tools, parts stock.
    Resources,
    /// Parts supply to customers.
    PartsSupply,
    /// Warranty handling (三包).
    WarrantyHandling,
}

impl Indicator {
    pub fn group(self) -> IndicatorGroup {
        use Indicator::*;
        match self {
            Organisation | Staffing | Resources | ServiceCommitmentKept => {
                IndicatorGroup::ServiceSystem
            }
            OnSiteStandard | RepeatRepairs | PartsSupply | WarrantyHandling => {
                IndicatorGroup::ProductService
            }
            ResponseTime | CustomerSatisfaction | ComplaintHandling => {
                IndicatorGroup::CustomerService
            }
        }
    }
}

/// Why an indicator has no figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
pub enum NotMeasurable {
    /// The records carry no complaints yet. No longer given: complaints come from the follow-up
    /// calls (`crate::followup`); kept so a reading from an older build stays readable.
    NoComplaintRecords,
    /// The indicator is about the organisation, not about service records.
    OutsideServiceRecords,
}

/// What an indicator reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reading {
    /// A share, with the number of completions it was computed from.
    Rate {
        rate: Rate,
        evidence: u32,
    },
    /// Mean stars of the rated completions.
    Stars {
        stars: Average,
        evidence: u32,
    },
    /// Complaints received in the month (from follow-up calls), how many of them are resolved
    /// and how many were resolved by their deadline; the evidence is the complaints received.
    Complaints {
        received: u32,
        resolved: Rate,
        resolved_in_time: Rate,
    },
    NotMeasurable {
        why: NotMeasurable,
    },
}

/// One line of the scorecard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct ScorecardLine {
    pub indicator: Indicator,
    pub group: IndicatorGroup,
    pub reading: Reading,
}

/// The scorecard of one month, for the centre or one technician.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Scorecard {
    pub month: Month,
    pub technician_id: Option<String>,
    pub lines: Vec<ScorecardLine>,
}

/// Whether the visit's Haier 12345 checklist is answered as required (its template on this
/// device): every required technician item done and nothing blocking. `None` when the visit has
/// no such checklist or its template is missing.
pub fn followed_on_site_standard(visit: &Visit, library: &TemplateLibrary) -> Option<bool> {
    let list = completion::checklist_progress(visit, library)
        .into_iter()
        .find(|c| c.template_id == HAIER_12345)?;
    Some(
        list.required_done == list.required_total
            && list.items.iter().all(|i| i.state != ItemState::Missing),
    )
}

/// Complaint handling: the complaints received in `month` (the centre's local calendar), of
/// `technician`'s completions or all, with how many are resolved and resolved in time.
pub fn complaint_handling(
    ctx: &StatsContext<'_>,
    month: Month,
    technician: Option<&str>,
) -> Reading {
    let mut received = 0;
    let mut resolved = Rate::default();
    let mut in_time = Rate::default();
    for (_, c) in crate::followup::complaints(ctx.orders) {
        if technician.is_none_or(|t| c.technician_id == t)
            && month.contains(c.received_at_ms, ctx.utc_offset_ms)
        {
            received += 1;
            resolved.count(!c.is_open());
            in_time.count(c.resolved_in_time());
        }
    }
    Reading::Complaints {
        received,
        resolved,
        resolved_in_time: in_time,
    }
}

/// The scorecard of `month`, for `technician` or the whole centre (`None`).
pub fn scorecard(
    ctx: &StatsContext<'_>,
    library: &TemplateLibrary,
    month: Month,
    technician: Option<&str>,
) -> Scorecard {
    let f: Figures = stats::figures_for(ctx, month, technician);
    let mut standard = Rate::default();
    for c in stats::completions(ctx.orders, ctx.visits) {
        let mine = technician.is_none_or(|t| c.visit.technician_id == t);
        if mine
            && month.contains(c.signed_at_ms, ctx.utc_offset_ms)
            && let Some(ok) = followed_on_site_standard(c.visit, library)
        {
            standard.count(ok);
        }
    }
    let rate = |rate: Rate| Reading::Rate {
        rate,
        evidence: rate.denominator,
    };
    let not = |why| Reading::NotMeasurable { why };
    use Indicator::*;
    let readings = [
        (ServiceCommitmentKept, rate(f.all_met)),
        (ResponseTime, rate(f.response_met)),
        (OnSiteStandard, rate(standard)),
        (
            CustomerSatisfaction,
            Reading::Stars {
                stars: f.stars,
                evidence: f.stars.count,
            },
        ),
        (
            ComplaintHandling,
            complaint_handling(ctx, month, technician),
        ),
        (RepeatRepairs, rate(f.repeat_repair)),
        (Organisation, not(NotMeasurable::OutsideServiceRecords)),
        (Staffing, not(NotMeasurable::OutsideServiceRecords)),
        (Resources, not(NotMeasurable::OutsideServiceRecords)),
        (PartsSupply, not(NotMeasurable::OutsideServiceRecords)),
        (WarrantyHandling, not(NotMeasurable::OutsideServiceRecords)),
    ];
    Scorecard {
        month,
        technician_id: technician.map(str::to_owned),
        lines: readings
            .into_iter()
            .map(|(indicator, reading)| ScorecardLine {
                indicator,
                group: indicator.group(),
                reading,
            })
            .collect(),
    }
}
