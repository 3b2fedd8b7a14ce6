//! Accounts, device tokens, sign-in throttling counters, order-number prefixes and the relay's
//! keys in PostgreSQL.

use postgres::{Client, Row};

use crate::storage::{Centre, StorageError, TokenRecord, User};
use crate::throttle::{Attempts, Policy};

const USER_COLUMNS: &str =
    "user_id, display_name, role, password_hash, disabled, created_at_ms, centre";
const TOKEN_COLUMNS: &str =
    "token_sha256, user_id, device_id, created_at_ms, expires_at_ms, revoked_at_ms";

fn user_of(r: &Row) -> Result<User, StorageError> {
    let role: String = r.get(2);
    Ok(User {
        user_id: r.get(0),
        display_name: r.get(1),
        role: role
            .parse()
            .map_err(|e: String| StorageError::Corrupt(format!("user role: {e}")))?,
        password_hash: r.get(3),
        disabled: r.get(4),
        created_at_ms: r.get(5),
        centre: r.get(6),
    })
}

fn token_of(r: &Row) -> TokenRecord {
    TokenRecord {
        token_sha256: r.get(0),
        user_id: r.get(1),
        device_id: r.get(2),
        created_at_ms: r.get(3),
        expires_at_ms: r.get(4),
        revoked_at_ms: r.get(5),
    }
}

pub(super) fn add_user(c: &mut Client, u: &User) -> Result<(), StorageError> {
    let centre = c.query_opt("SELECT 1 FROM centres WHERE centre_id = $1", &[&u.centre])?;
    if centre.is_none() {
        return Err(StorageError::NoSuchCentre(u.centre.clone()));
    }
    let n = c.execute(
        &format!(
            "INSERT INTO users({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT(user_id) DO NOTHING"
        ),
        &[
            &u.user_id,
            &u.display_name,
            &u.role.as_str(),
            &u.password_hash,
            &u.disabled,
            &u.created_at_ms,
            &u.centre,
        ],
    )?;
    if n == 0 {
        return Err(StorageError::UserExists(u.user_id.clone()));
    }
    Ok(())
}

pub(super) fn add_centre(c: &mut Client, centre: &Centre) -> Result<(), StorageError> {
    let n = c.execute(
        "INSERT INTO centres(centre_id, name, created_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT(centre_id) DO NOTHING",
        &[&centre.centre_id, &centre.name, &centre.created_at_ms],
    )?;
    if n == 0 {
        return Err(StorageError::CentreExists(centre.centre_id.clone()));
    }
    Ok(())
}

pub(super) fn centres(c: &mut Client) -> Result<Vec<Centre>, StorageError> {
    let rows = c.query(
        "SELECT centre_id, name, created_at_ms FROM centres ORDER BY centre_id",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| Centre {
            centre_id: r.get(0),
            name: r.get(1),
            created_at_ms: r.get(2),
        })
        .collect())
}

pub(super) fn user(c: &mut Client, user_id: &str) -> Result<Option<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = $1");
    c.query_opt(&sql, &[&user_id])?
        .map(|r| user_of(&r))
        .transpose()
}

pub(super) fn users(c: &mut Client) -> Result<Vec<User>, StorageError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY user_id");
    c.query(&sql, &[])?.iter().map(user_of).collect()
}

pub(super) fn set_disabled(
    c: &mut Client,
    user_id: &str,
    disabled: bool,
) -> Result<bool, StorageError> {
    let sql = "UPDATE users SET disabled = $2 WHERE user_id = $1";
    Ok(c.execute(sql, &[&user_id, &disabled])? > 0)
}

pub(super) fn set_password_hash(
    c: &mut Client,
    user_id: &str,
    hash: &str,
) -> Result<bool, StorageError> {
    let sql = "UPDATE users SET password_hash = $2 WHERE user_id = $1";
    Ok(c.execute(sql, &[&user_id, &hash])? > 0)
}

pub(super) fn add_token(c: &mut Client, t: &TokenRecord) -> Result<(), StorageError> {
    c.execute(
        &format!("INSERT INTO tokens({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        &[
            &t.token_sha256,
            &t.user_id,
            &t.device_id,
            &t.created_at_ms,
            &t.expires_at_ms,
            &t.revoked_at_ms,
        ],
    )?;
    Ok(())
}

pub(super) fn token(c: &mut Client, sha256: &str) -> Result<Option<TokenRecord>, StorageError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE token_sha256 = $1");
    Ok(c.query_opt(&sql, &[&sha256])?.map(|r| token_of(&r)))
}

pub(super) fn revoke_tokens(
    c: &mut Client,
    user_id: &str,
    device_id: Option<&str>,
    now_ms: i64,
) -> Result<usize, StorageError> {
    let n = c.execute(
        "UPDATE tokens SET revoked_at_ms = $3
         WHERE user_id = $1 AND ($2::TEXT IS NULL OR device_id = $2) AND revoked_at_ms IS NULL",
        &[&user_id, &device_id, &now_ms],
    )?;
    Ok(n as usize)
}

pub(super) fn revoke_token(
    c: &mut Client,
    sha256: &str,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let sql =
        "UPDATE tokens SET revoked_at_ms = $2 WHERE token_sha256 = $1 AND revoked_at_ms IS NULL";
    Ok(c.execute(sql, &[&sha256, &now_ms])? > 0)
}

pub(super) fn order_prefix(
    c: &mut Client,
    device_id: &str,
) -> Result<Option<String>, StorageError> {
    let sql = "SELECT prefix FROM order_prefixes WHERE device_id = $1";
    Ok(c.query_opt(sql, &[&device_id])?.map(|r| r.get(0)))
}

pub(super) fn claim_order_prefix(
    c: &mut Client,
    device_id: &str,
    prefix: &str,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let n = c.execute(
        "INSERT INTO order_prefixes(device_id, prefix, created_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        &[&device_id, &prefix, &now_ms],
    )?;
    Ok(n == 1)
}

pub(super) fn relay_key(
    c: &mut Client,
    name: &str,
    fresh: &[u8],
    now_ms: i64,
) -> Result<Vec<u8>, StorageError> {
    c.execute(
        "INSERT INTO relay_keys(name, key, created_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT(name) DO NOTHING",
        &[&name, &fresh, &now_ms],
    )?;
    let sql = "SELECT key FROM relay_keys WHERE name = $1";
    Ok(c.query_one(sql, &[&name])?.get(0))
}

pub(super) fn replace_relay_key(
    c: &mut Client,
    name: &str,
    key: &[u8],
    now_ms: i64,
) -> Result<(), StorageError> {
    c.execute(
        "INSERT INTO relay_keys(name, key, created_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT(name) DO UPDATE SET key = excluded.key, created_at_ms = excluded.created_at_ms",
        &[&name, &key, &now_ms],
    )?;
    Ok(())
}

pub(super) fn sign_in_attempts(c: &mut Client, key: &str) -> Result<Attempts, StorageError> {
    let sql = "SELECT failures, locked_until_ms FROM sign_in_attempts WHERE key = $1";
    Ok(c.query_opt(sql, &[&key])?
        .map(|r| Attempts {
            failures: r.get::<_, i32>(0) as u32,
            locked_until_ms: r.get(1),
        })
        .unwrap_or_default())
}

/// One more failure for `key` and its lock, in one statement each way: concurrent failures on
/// any instance each count (the row is updated in place).
pub(super) fn add_sign_in_failure(
    c: &mut Client,
    key: &str,
    policy: &Policy,
    now_ms: i64,
) -> Result<Attempts, StorageError> {
    let failures: i32 = c
        .query_one(
            "INSERT INTO sign_in_attempts(key, failures, last_failure_ms, locked_until_ms)
             VALUES ($1, 1, $2, 0)
             ON CONFLICT(key) DO UPDATE SET failures = sign_in_attempts.failures + 1,
               last_failure_ms = $2
             RETURNING failures",
            &[&key, &now_ms],
        )?
        .get(0);
    let failures = failures as u32;
    let locked_until_ms = match policy.lock_ms(failures) {
        0 => 0,
        lock => now_ms + lock,
    };
    c.execute(
        "UPDATE sign_in_attempts SET locked_until_ms = $2 WHERE key = $1",
        &[&key, &locked_until_ms],
    )?;
    Ok(Attempts {
        failures,
        locked_until_ms,
    })
}

pub(super) fn clear_sign_in_failures(c: &mut Client, key: &str) -> Result<bool, StorageError> {
    Ok(c.execute("DELETE FROM sign_in_attempts WHERE key = $1", &[&key])? > 0)
}
