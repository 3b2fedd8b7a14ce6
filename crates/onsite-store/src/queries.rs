//! The screens' queries, answered from the index tables (never by hydrating documents).

use std::collections::BTreeMap;

use onsite_domain::Millis;
use onsite_domain::order::{DispatchStatus, Tier, Window};
use onsite_domain::progress::{ProgressEvent, ProgressKind};
use onsite_domain::reference::ServiceType;
use onsite_domain::sla::{self, SlaPolicy, SlaReport, SlaTargets};
use onsite_domain::status::{Conflict, EffectiveStatus};
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::index::parse_enum;
use crate::{Store, StoreError};

/// One order as the lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    pub order_id: String,
    pub order_no: String,
    pub assignee: Option<String>,
    pub customer_name: String,
    pub customer_phone: String,
    pub customer_address: String,
    pub household_id: String,
    pub tier: Tier,
    pub service_type: ServiceType,
    pub problem: String,
    pub created_at_ms: Millis,
    pub schedule: Option<Window>,
    pub sla: SlaTargets,
    pub dispatch_status: DispatchStatus,
    /// From [`onsite_domain::status::derive`] over the order and all its visits on this device.
    pub effective_status: EffectiveStatus,
    /// Contradictions between order and visits, for review.
    pub conflicts: Vec<Conflict>,
}

/// A row of the technician's Today screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TodayRow {
    pub order: OrderRow,
    /// Where this technician's visit is (`None` before the first step or before it started).
    pub stage: Option<ProgressKind>,
    /// SLA evaluated at the `now` passed to [`Store::today`]; `sla.badge` is the badge to show.
    pub sla: SlaReport,
}

/// Whether a visit's signed record still matches its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VisitVerification {
    Unsigned,
    Valid,
    ModifiedAfterSigning {
        sections: Vec<String>,
    },
    /// Signed, but the order document is not on this device, so it cannot be checked.
    OrderMissing,
}

/// One visit as the lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitRow {
    pub order_id: String,
    pub technician_id: String,
    pub stage: Option<ProgressKind>,
    pub signed_at_ms: Option<Millis>,
    pub record_hash: Option<String>,
    pub verification: VisitVerification,
}

/// A customer found by [`Store::search_customers`] (one per household and contact details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub household_id: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub orders: i64,
    pub last_order_at_ms: Millis,
}

/// One past or current order of a household, with its visits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub order: OrderRow,
    pub visits: Vec<VisitRow>,
}

const ORDER_COLUMNS: &str = "order_id, order_no, assignee, customer_name, customer_phone,
    customer_address, household_id, tier, service_type, problem, created_at_ms,
    schedule_start_ms, schedule_end_ms, respond_by_ms, arrive_by_ms, complete_by_ms,
    dispatch_status, effective_status, conflicts";

/// Raw columns of an order row; enums are parsed after the SQLite row is released.
struct RawOrder {
    cols: [String; 10],
    assignee: Option<String>,
    created_at_ms: i64,
    schedule: (Option<i64>, Option<i64>),
    sla: [i64; 3],
}

fn raw_order(r: &Row<'_>) -> rusqlite::Result<RawOrder> {
    Ok(RawOrder {
        cols: [
            r.get(0)?,
            r.get(1)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(16)?,
        ],
        assignee: r.get(2)?,
        created_at_ms: r.get(10)?,
        schedule: (r.get(11)?, r.get(12)?),
        sla: [r.get(13)?, r.get(14)?, r.get(15)?],
    })
}

fn order_row(raw: RawOrder, effective: String, conflicts: String) -> Result<OrderRow, StoreError> {
    let [
        order_id,
        order_no,
        customer_name,
        customer_phone,
        customer_address,
        household_id,
        tier,
        service_type,
        problem,
        dispatch,
    ] = raw.cols;
    let schedule = match raw.schedule {
        (Some(start_ms), Some(end_ms)) => Some(Window { start_ms, end_ms }),
        _ => None,
    };
    Ok(OrderRow {
        order_id,
        order_no,
        assignee: raw.assignee,
        customer_name,
        customer_phone,
        customer_address,
        household_id,
        tier: parse_enum(&tier)?,
        service_type: parse_enum(&service_type)?,
        problem,
        created_at_ms: raw.created_at_ms,
        schedule,
        sla: SlaTargets {
            respond_by_ms: raw.sla[0],
            arrive_by_ms: raw.sla[1],
            complete_by_ms: raw.sla[2],
        },
        dispatch_status: parse_enum(&dispatch)?,
        effective_status: parse_enum(&effective)?,
        conflicts: serde_json::from_str(&conflicts)
            .map_err(|e| StoreError::IndexCorrupt(format!("conflicts column: {e}")))?,
    })
}

fn read_order(r: &Row<'_>) -> rusqlite::Result<(RawOrder, String, String)> {
    Ok((raw_order(r)?, r.get(17)?, r.get(18)?))
}

fn visit_row(
    order_id: String,
    technician_id: String,
    stage: Option<String>,
    signed_at_ms: Option<i64>,
    record_hash: Option<String>,
    verification: String,
    sections: String,
) -> Result<VisitRow, StoreError> {
    let verification = match verification.as_str() {
        "unsigned" => VisitVerification::Unsigned,
        "valid" => VisitVerification::Valid,
        "order_missing" => VisitVerification::OrderMissing,
        "modified_after_signing" => VisitVerification::ModifiedAfterSigning {
            sections: sections
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        other => {
            return Err(StoreError::IndexCorrupt(format!(
                "unknown verification state '{other}'"
            )));
        }
    };
    Ok(VisitRow {
        order_id,
        technician_id,
        stage: stage.as_deref().map(parse_enum).transpose()?,
        signed_at_ms,
        record_hash,
        verification,
    })
}

/// `%query%` for LIKE with `\` as the escape character, so `%`, `_` and `\` match literally.
pub(crate) fn like_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// The technician's orders whose schedule window overlaps `[day_start_ms, day_end_ms)`, plus
    /// their still-open orders scheduled before it (carried over, so unfinished work never drops
    /// off the screen) and their open orders without a schedule (listed last). Ordered by
    /// schedule start, then by the complete-by deadline. Each row carries the SLA report at
    /// `now_ms` (from the progress events of every visit of the order) and the effective status.
    pub fn today(
        &self,
        technician_id: &str,
        day_start_ms: Millis,
        day_end_ms: Millis,
        now_ms: Millis,
    ) -> Result<Vec<TodayRow>, StoreError> {
        self.technician_rows(
            "WHERE assignee = ?1
               AND ((schedule_start_ms < ?3 AND schedule_end_ms > ?2)
                    OR (effective_status NOT IN ('completed', 'cancelled')
                        AND (schedule_start_ms IS NULL OR schedule_end_ms <= ?2)))
             ORDER BY schedule_start_ms IS NULL, schedule_start_ms, complete_by_ms, order_no",
            params![technician_id, day_start_ms, day_end_ms],
            technician_id,
            now_ms,
        )
    }

    /// The technician's open orders scheduled to start at or after `from_ms` (the days after
    /// the Today screen), by schedule start, then the complete-by deadline, then number; rows
    /// as in [`Store::today`].
    pub fn upcoming(
        &self,
        technician_id: &str,
        from_ms: Millis,
        now_ms: Millis,
    ) -> Result<Vec<TodayRow>, StoreError> {
        self.technician_rows(
            "WHERE assignee = ?1 AND schedule_start_ms >= ?2
               AND effective_status NOT IN ('completed', 'cancelled')
             ORDER BY schedule_start_ms, complete_by_ms, order_no",
            params![technician_id, from_ms],
            technician_id,
            now_ms,
        )
    }

    /// The technician's orders (any status) whose number, customer name, phone or address
    /// contains `query` literally, at most `limit`: open orders first, each group by schedule
    /// start (unscheduled last), then number. An empty query finds nothing.
    pub fn search_orders(
        &self,
        technician_id: &str,
        query: &str,
        limit: usize,
        now_ms: Millis,
    ) -> Result<Vec<TodayRow>, StoreError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        self.technician_rows(
            "WHERE assignee = ?1
               AND (order_no LIKE ?2 ESCAPE '\\' OR customer_name LIKE ?2 ESCAPE '\\'
                    OR customer_phone LIKE ?2 ESCAPE '\\' OR customer_address LIKE ?2 ESCAPE '\\')
             ORDER BY effective_status IN ('completed', 'cancelled'), schedule_start_ms IS NULL,
                      schedule_start_ms, order_no
             LIMIT ?3",
            params![technician_id, like_pattern(query), limit as i64],
            technician_id,
            now_ms,
        )
    }

    /// Order rows selected by `clause`, each with the SLA report at `now_ms` (from the progress
    /// events of every visit of the order) and `technician_id`'s stage.
    fn technician_rows(
        &self,
        clause: &str,
        params: impl rusqlite::Params,
        technician_id: &str,
        now_ms: Millis,
    ) -> Result<Vec<TodayRow>, StoreError> {
        let raws: Vec<(RawOrder, String, String)> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!("SELECT {ORDER_COLUMNS} FROM idx_orders {clause}"))?;
            stmt.query_map(params, read_order)?
                .collect::<Result<_, _>>()?
        };
        let mut events_stmt = self
            .conn
            .prepare_cached("SELECT event_id, kind, at_ms FROM idx_events WHERE order_id = ?1")?;
        let mut stage_stmt = self.conn.prepare_cached(
            "SELECT stage FROM idx_visits WHERE order_id = ?1 AND technician_id = ?2",
        )?;
        let mut out = Vec::with_capacity(raws.len());
        for (raw, effective, conflicts) in raws {
            let order = order_row(raw, effective, conflicts)?;
            let raw_events: Vec<(String, String, i64)> = events_stmt
                .query_map(params![order.order_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut events = Vec::with_capacity(raw_events.len());
            for (id, kind, at_ms) in raw_events {
                events.push(ProgressEvent {
                    id,
                    kind: parse_enum(&kind)?,
                    at_ms,
                    device_id: String::new(),
                });
            }
            let report = sla::evaluate(
                order.created_at_ms,
                &order.sla,
                &events,
                &SlaPolicy::PUBLISHED,
                now_ms,
            );
            let stage: Option<String> = stage_stmt
                .query_row(params![order.order_id, technician_id], |r| r.get(0))
                .optional()?
                .flatten();
            out.push(TodayRow {
                stage: stage.as_deref().map(parse_enum).transpose()?,
                order,
                sla: report,
            });
        }
        Ok(out)
    }

    /// Orders with effective status `status`, by schedule start (unscheduled last), then number.
    pub fn orders_by_status(&self, status: EffectiveStatus) -> Result<Vec<OrderRow>, StoreError> {
        self.order_rows(
            "WHERE effective_status = ?1
             ORDER BY schedule_start_ms IS NULL, schedule_start_ms, order_no",
            params![status.as_str()],
        )
    }

    /// The index row of one order, if the order is on this device.
    pub fn order_row(&self, order_id: &str) -> Result<Option<OrderRow>, StoreError> {
        Ok(self
            .order_rows("WHERE order_id = ?1", params![order_id])?
            .pop())
    }

    fn order_rows(
        &self,
        clause: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<OrderRow>, StoreError> {
        let raws: Vec<(RawOrder, String, String)> = {
            let mut stmt = self
                .conn
                .prepare_cached(&format!("SELECT {ORDER_COLUMNS} FROM idx_orders {clause}"))?;
            stmt.query_map(params, read_order)?
                .collect::<Result<_, _>>()?
        };
        raws.into_iter()
            .map(|(raw, e, c)| order_row(raw, e, c))
            .collect()
    }

    /// The visits of one order on this device, by technician id.
    pub fn visits_of_order(&self, order_id: &str) -> Result<Vec<VisitRow>, StoreError> {
        self.visit_rows(
            "WHERE order_id = ?1 ORDER BY technician_id",
            params![order_id],
        )
    }

    fn visit_rows(
        &self,
        clause: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<VisitRow>, StoreError> {
        type Raw = (
            String,
            String,
            Option<String>,
            Option<i64>,
            Option<String>,
            String,
            String,
        );
        let raws: Vec<Raw> = {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT order_id, technician_id, stage, signed_at_ms, record_hash, verification,
                        modified_sections
                 FROM idx_visits {clause}"
            ))?;
            stmt.query_map(params, |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<Result<_, _>>()?
        };
        raws.into_iter()
            .map(|(o, t, st, s, h, v, sec)| visit_row(o, t, st, s, h, v, sec))
            .collect()
    }

    /// Customers whose name, phone or address contains `query` (literally: `%` and `_` are not
    /// wildcards), most recent first, at most `limit`. An empty query finds nothing.
    pub fn search_customers(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<CustomerRow>, StoreError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT household_id, customer_name, customer_phone, customer_address, COUNT(*),
                    MAX(created_at_ms) AS last
             FROM idx_orders
             WHERE customer_name LIKE ?1 ESCAPE '\\' OR customer_phone LIKE ?1 ESCAPE '\\'
                OR customer_address LIKE ?1 ESCAPE '\\'
             GROUP BY household_id, customer_name, customer_phone, customer_address
             ORDER BY last DESC, household_id
             LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![like_pattern(query), limit as i64], |r| {
                Ok(CustomerRow {
                    household_id: r.get(0)?,
                    name: r.get(1)?,
                    phone: r.get(2)?,
                    address: r.get(3)?,
                    orders: r.get(4)?,
                    last_order_at_ms: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Every order of household `household_id` on this device, newest first, with its visits.
    pub fn household_history(&self, household_id: &str) -> Result<Vec<HistoryRow>, StoreError> {
        let orders = self.order_rows(
            "WHERE household_id = ?1 ORDER BY created_at_ms DESC, order_no DESC",
            params![household_id],
        )?;
        let mut visits: BTreeMap<String, Vec<VisitRow>> = BTreeMap::new();
        for v in self.visit_rows(
            "WHERE order_id IN (SELECT order_id FROM idx_orders WHERE household_id = ?1)
             ORDER BY order_id, technician_id",
            params![household_id],
        )? {
            visits.entry(v.order_id.clone()).or_default().push(v);
        }
        Ok(orders
            .into_iter()
            .map(|order| HistoryRow {
                visits: visits.remove(&order.order_id).unwrap_or_default(),
                order,
            })
            .collect())
    }

    /// Stock on hand per part number for `technician_id`: ledger entries minus parts taken from
    /// personal stock on the technician's visits — the same figures as
    /// [`onsite_domain::ledger::stock_levels`].
    pub fn stock_levels(&self, technician_id: &str) -> Result<BTreeMap<String, i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT part_no, SUM(d) FROM (
                 SELECT part_no, delta AS d FROM idx_ledger WHERE technician_id = ?1
                 UNION ALL
                 SELECT part_no, -qty AS d FROM idx_visit_parts
                 WHERE technician_id = ?1 AND source = ?2
             ) GROUP BY part_no",
        )?;
        let personal = crate::index::enum_text(&onsite_domain::visit::StockSource::Personal);
        let rows = stmt
            .query_map(params![technician_id, personal], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
