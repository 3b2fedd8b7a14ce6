//! The customer registry's index rows (households and their normalised phone numbers, external
//! references of imported orders), kept in step with the documents in the same transaction, and
//! the dispatcher's offline search over them.

use std::collections::BTreeMap;

use onsite_domain::household::Household;
use onsite_domain::order::{Order, Tier};
use onsite_domain::{Millis, phone};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::index::{Rows, enum_text, parse_enum};
use crate::queries::like_pattern;
use crate::{Store, StoreError};

/// Rewrite the rows of household `household_id` (none when `household` is `None`).
pub(crate) fn refresh_household(
    conn: &Connection,
    household_id: &str,
    household: Option<&Household>,
    rows: Rows,
) -> Result<(), StoreError> {
    if rows == Rows::Replace {
        conn.prepare_cached("DELETE FROM idx_households WHERE household_id = ?1")?
            .execute(params![household_id])?;
        conn.prepare_cached("DELETE FROM idx_household_phones WHERE household_id = ?1")?
            .execute(params![household_id])?;
    }
    let Some(h) = household else {
        return Ok(());
    };
    conn.prepare_cached(
        "INSERT INTO idx_households (household_id, name, address, tier, appliances, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        household_id,
        h.name,
        h.address,
        enum_text(&h.tier),
        h.appliances.len() as i64,
        h.updated_at_ms
    ])?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO idx_household_phones (household_id, pos, phone) VALUES (?1, ?2, ?3)",
    )?;
    for (pos, p) in h.phones.iter().enumerate() {
        ins.execute(params![household_id, pos as i64, p])?;
    }
    Ok(())
}

/// Rewrite the external-reference row of order `order_id`.
pub(crate) fn refresh_order_ref(
    conn: &Connection,
    order_id: &str,
    order: Option<&Order>,
    rows: Rows,
) -> Result<(), StoreError> {
    if rows == Rows::Replace {
        conn.prepare_cached("DELETE FROM idx_order_refs WHERE order_id = ?1")?
            .execute(params![order_id])?;
    }
    if let Some(r) = order.and_then(|o| o.external_ref.as_deref()) {
        conn.prepare_cached("INSERT INTO idx_order_refs (external_ref, order_id) VALUES (?1, ?2)")?
            .execute(params![r, order_id])?;
    }
    Ok(())
}

/// A household found by [`Store::search_households`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdRow {
    pub household_id: String,
    pub name: String,
    /// Normalised, the first one called first.
    pub phones: Vec<String>,
    pub address: String,
    pub tier: Tier,
    pub appliances: i64,
    /// Orders of the household on this device.
    pub orders: i64,
    pub last_order_at_ms: Option<Millis>,
}

/// `query%` for LIKE with `\` as the escape character.
fn prefix_pattern(query: &str) -> String {
    let mut p = like_pattern(query);
    p.remove(0);
    p
}

impl Store {
    /// Households whose phone number contains the digits of `query` (any spelling: `+86 138-0000`
    /// finds `13800000001`), or whose name or address contains `query`, at most `limit`. Best
    /// first: the whole number, a number starting with it, a number containing it, the whole
    /// name, a name starting with it, a name containing it, an address containing it; then by
    /// name. An empty query finds nothing.
    pub fn search_households(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<HouseholdRow>, StoreError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let mut rank: BTreeMap<String, i64> = BTreeMap::new();
        let mut better = |id: String, r: i64| {
            let e = rank.entry(id).or_insert(r);
            *e = (*e).min(r);
        };
        if let Some(d) = phone::query_digits(query) {
            let mut stmt = self.conn.prepare_cached(
                "SELECT household_id, MIN(CASE WHEN phone = ?1 THEN 0
                                               WHEN phone LIKE ?2 ESCAPE '\\' THEN 1 ELSE 2 END)
                 FROM idx_household_phones WHERE phone LIKE ?3 ESCAPE '\\' GROUP BY household_id",
            )?;
            let rows = stmt.query_map(params![d, prefix_pattern(&d), like_pattern(&d)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (id, r) = row?;
                better(id, r);
            }
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT household_id, CASE WHEN name = ?1 THEN 3
                                       WHEN name LIKE ?2 ESCAPE '\\' THEN 4
                                       WHEN name LIKE ?3 ESCAPE '\\' THEN 5 ELSE 6 END
             FROM idx_households
             WHERE name LIKE ?3 ESCAPE '\\' OR address LIKE ?3 ESCAPE '\\'",
        )?;
        let rows = stmt.query_map(
            params![query, prefix_pattern(query), like_pattern(query)],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )?;
        for row in rows {
            let (id, r) = row?;
            better(id, r);
        }
        let mut found = Vec::with_capacity(rank.len());
        for (id, r) in rank {
            if let Some(row) = self.household_row(&id)? {
                found.push((r, row));
            }
        }
        found.sort_by(|(ra, a), (rb, b)| {
            (ra, &a.name, &a.household_id).cmp(&(rb, &b.name, &b.household_id))
        });
        Ok(found.into_iter().take(limit).map(|(_, row)| row).collect())
    }

    /// The index row of one household, if it is on this device.
    pub fn household_row(&self, household_id: &str) -> Result<Option<HouseholdRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, address, tier, appliances,
                    (SELECT COUNT(*) FROM idx_orders o WHERE o.household_id = h.household_id),
                    (SELECT MAX(created_at_ms) FROM idx_orders o
                     WHERE o.household_id = h.household_id)
             FROM idx_households h WHERE household_id = ?1",
        )?;
        type Raw = (String, String, String, i64, i64, Option<i64>);
        let raw: Option<Raw> = stmt
            .query_map(params![household_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .next()
            .transpose()?;
        let Some((name, address, tier, appliances, orders, last)) = raw else {
            return Ok(None);
        };
        Ok(Some(HouseholdRow {
            household_id: household_id.to_owned(),
            name,
            phones: self.household_phones(household_id)?,
            address,
            tier: parse_enum(&tier)?,
            appliances,
            orders,
            last_order_at_ms: last,
        }))
    }

    fn household_phones(&self, household_id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT phone FROM idx_household_phones WHERE household_id = ?1 ORDER BY pos",
        )?;
        let phones = stmt
            .query_map(params![household_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(phones)
    }

    /// Ids of the households with exactly this normalised phone number, in id order.
    pub fn households_with_phone(&self, number: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT household_id FROM idx_household_phones WHERE phone = ?1
             ORDER BY household_id",
        )?;
        let ids = stmt
            .query_map(params![number], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// External reference → order number of every imported order on this device (the first
    /// order number when two devices imported the same reference).
    pub fn imported_refs(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.external_ref, MIN(o.order_no) FROM idx_order_refs r
             JOIN idx_orders o ON o.order_id = r.order_id GROUP BY r.external_ref",
        )?;
        let refs = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(refs)
    }
}
