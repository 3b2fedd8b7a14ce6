//! Accounts and tokens: argon2id password hashes, opaque random bearer tokens bound to a device,
//! stored only as SHA-256, with expiry and revocation.

use std::net::IpAddr;
use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher};
use base64::Engine;
use onsite_domain::Code;
use onsite_sync::access::Principal;
use onsite_wire::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::storage::{Centre, DEFAULT_CENTRE, RelayStorage, StorageError, TokenRecord, User};
use crate::throttle::Key;

/// Why a request or sign-in was not authenticated. Each has a wire [`Code`].
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token; sign in and send 'Authorization: Bearer <token>'")]
    Missing,
    #[error("the token is not valid; sign in again")]
    Invalid,
    #[error("the token expired; sign in again")]
    Expired,
    #[error("the token was revoked; sign in again")]
    Revoked,
    #[error("wrong user id or password")]
    BadCredentials,
    #[error("the account is disabled; ask an administrator")]
    Disabled,
    #[error("too many failed sign-ins; try again in {} s or ask an administrator to unlock the account", (wait_ms + 999) / 1000)]
    Throttled { wait_ms: i64 },
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl AuthError {
    pub fn code(&self) -> Code {
        match self {
            AuthError::Missing => Code::AuthMissingToken,
            AuthError::Invalid => Code::AuthInvalidToken,
            AuthError::Expired => Code::AuthTokenExpired,
            AuthError::Revoked => Code::AuthTokenRevoked,
            AuthError::BadCredentials => Code::AuthBadCredentials,
            AuthError::Disabled => Code::AuthAccountDisabled,
            AuthError::Throttled { .. } => Code::AuthThrottled,
            AuthError::Input(_) => Code::RequestMalformed,
            AuthError::Storage(_) => Code::RelayUnavailable,
        }
    }
}

/// Hash a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    if password.chars().count() < 8 {
        return Err(AuthError::Input(
            "the password must have at least 8 characters".into(),
        ));
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Input(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Input(e.to_string()))
}

/// Whether `password` matches the stored PHC `hash` (on Argon2 memory kept between checks,
/// [`crate::password_memory`]).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| crate::password_memory::SHARED.verify(password.as_bytes(), &h))
}

/// SHA-256 (hex) of a token: the only form in which tokens are stored.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh opaque token: `ons_` + 32 random bytes, base64url.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!(
        "ons_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

/// Create an account in the default centre ([`DEFAULT_CENTRE`]: a single-centre deployment).
pub fn add_user(
    storage: &dyn RelayStorage,
    user_id: &str,
    display_name: &str,
    role: Role,
    password: &str,
    now_ms: i64,
) -> Result<User, AuthError> {
    let new = NewUser {
        user_id,
        display_name,
        role,
        centre: DEFAULT_CENTRE,
    };
    add_user_in(storage, &new, password, now_ms)
}

/// Who a new account is for.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub user_id: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    /// An existing service centre.
    pub centre: &'a str,
}

/// Create an account in its service centre.
pub fn add_user_in(
    storage: &dyn RelayStorage,
    new: &NewUser<'_>,
    password: &str,
    now_ms: i64,
) -> Result<User, AuthError> {
    let NewUser {
        user_id,
        display_name,
        role,
        centre,
    } = *new;
    if !onsite_domain::ids::is_valid_id(user_id) {
        return Err(AuthError::Input(format!(
            "'{user_id}' is not a valid user id: use 1–64 letters, digits, '-', '_' or '.'"
        )));
    }
    let user = User {
        user_id: user_id.to_owned(),
        display_name: display_name.to_owned(),
        role,
        password_hash: hash_password(password)?,
        disabled: false,
        created_at_ms: now_ms,
        centre: centre.to_owned(),
    };
    storage.add_user(&user)?;
    Ok(user)
}

/// Add a service centre (tenancy: its users and documents are kept from every other centre's).
pub fn add_centre(
    storage: &dyn RelayStorage,
    centre_id: &str,
    name: &str,
    now_ms: i64,
) -> Result<Centre, AuthError> {
    if !onsite_domain::ids::is_valid_id(centre_id) {
        return Err(AuthError::Input(format!(
            "'{centre_id}' is not a valid centre id: use 1–64 letters, digits, '-', '_' or '.'"
        )));
    }
    if name.trim().is_empty() {
        return Err(AuthError::Input(format!(
            "centre '{centre_id}' needs a name (--name)"
        )));
    }
    let centre = Centre {
        centre_id: centre_id.to_owned(),
        name: name.trim().to_owned(),
        created_at_ms: now_ms,
    };
    storage.add_centre(&centre)?;
    Ok(centre)
}

/// Disable an account and revoke all its tokens, so no device of it can sync any more. Returns how
/// many tokens were revoked, or `None` when there is no such user.
pub fn disable_user(
    storage: &dyn RelayStorage,
    user_id: &str,
    now_ms: i64,
) -> Result<Option<usize>, AuthError> {
    if !storage.set_disabled(user_id, true)? {
        return Ok(None);
    }
    Ok(Some(storage.revoke_tokens(user_id, None, now_ms)?))
}

/// Enable a disabled account (its devices sign in again). `false` when there is no such user.
pub fn enable_user(storage: &dyn RelayStorage, user_id: &str) -> Result<bool, AuthError> {
    Ok(storage.set_disabled(user_id, false)?)
}

/// Set a new password and revoke all the account's tokens, so every device signs in again with
/// it. Returns how many tokens were revoked, or `None` when there is no such user.
pub fn reset_password(
    storage: &dyn RelayStorage,
    user_id: &str,
    password: &str,
    now_ms: i64,
) -> Result<Option<usize>, AuthError> {
    let hash = hash_password(password)?;
    if !storage.set_password_hash(user_id, &hash)? {
        return Ok(None);
    }
    Ok(Some(storage.revoke_tokens(user_id, None, now_ms)?))
}

/// Lift the sign-in lock of an account (`onsite-relay user unlock`); whether it had failures.
pub fn unlock_user(storage: &dyn RelayStorage, user_id: &str) -> Result<bool, AuthError> {
    Ok(storage.clear_sign_in_failures(&Key::account(user_id).text)?)
}

/// A successful sign-in: the clear token (shown once) and its record.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub record: TokenRecord,
    pub user: User,
    /// The device's order-number prefix ([`order_prefix`]).
    pub order_prefix: String,
}

/// Letters and digits of an order-number prefix: no 0/O or 1/I, which read alike on paper.
const PREFIX_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Length of an allocated prefix: 32⁴ ≈ 1 million devices.
const PREFIX_LEN: usize = 4;

/// The order-number prefix of `device_id`: allocated (random, unique across the relay) on the
/// device's first sign-in, the same ever after. A dispatcher's device numbers orders offline with
/// it (`WO-YYYYMMDD-<PREFIX>-<SEQ>`), so two devices never make the same number.
pub fn order_prefix(
    storage: &dyn RelayStorage,
    device_id: &str,
    now_ms: i64,
) -> Result<String, AuthError> {
    for _ in 0..64 {
        if let Some(p) = storage.order_prefix(device_id)? {
            return Ok(p);
        }
        let mut rng = rand::rng();
        let candidate: String = (0..PREFIX_LEN)
            .map(|_| PREFIX_ALPHABET[rng.next_u32() as usize % PREFIX_ALPHABET.len()] as char)
            .collect();
        if storage.claim_order_prefix(device_id, &candidate, now_ms)? {
            return Ok(candidate);
        }
    }
    Err(AuthError::Storage(StorageError::Corrupt(
        "no free order-number prefix after 64 tries".into(),
    )))
}

/// A password check against a stored hash never runs for an unknown user, so without this an
/// unknown user id would answer ~20× faster than a wrong password and tell an attacker which
/// accounts exist. Unknown users are checked against this hash of a random password instead.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut b = [0u8; 24];
        rand::rng().fill_bytes(&mut b);
        hash_password(&hex::encode(b)).expect("a random 48-character password hashes")
    })
}

/// Refuse at once (before any hashing) when a throttle key of this attempt is locked.
fn refuse_if_locked(
    storage: &dyn RelayStorage,
    keys: &[Key],
    now_ms: i64,
) -> Result<(), AuthError> {
    for key in keys {
        if let Some(wait_ms) = storage.sign_in_attempts(&key.text)?.wait_ms(now_ms) {
            return Err(AuthError::Throttled { wait_ms });
        }
    }
    Ok(())
}

/// Check the password the same way whether or not the user exists (same work, same time), and
/// record a failure on every throttle key. A disabled account answers `Disabled` whether or not
/// the password was right, so it never confirms a password.
fn check_password(
    storage: &dyn RelayStorage,
    user_id: &str,
    password: &str,
    keys: &[Key],
    now_ms: i64,
) -> Result<User, AuthError> {
    let user = storage.user(user_id)?;
    let hash = user
        .as_ref()
        .map_or(dummy_hash(), |u| u.password_hash.as_str());
    let right = verify_password(password, hash);
    match user {
        Some(u) if right && !u.disabled => {
            storage.clear_sign_in_failures(&Key::account(user_id).text)?;
            Ok(u)
        }
        user => {
            for key in keys {
                storage.add_sign_in_failure(&key.text, &key.policy, now_ms)?;
            }
            match user {
                Some(u) if u.disabled => Err(AuthError::Disabled),
                _ => Err(AuthError::BadCredentials),
            }
        }
    }
}

/// Check credentials and issue a token bound to `device_id`, valid for `ttl_ms`. Sign-ins are
/// throttled per account and per client address `from` (when known): see [`crate::throttle`].
pub fn sign_in(
    storage: &dyn RelayStorage,
    user_id: &str,
    password: &str,
    device_id: &str,
    now_ms: i64,
    ttl_ms: i64,
    from: Option<IpAddr>,
) -> Result<Session, AuthError> {
    if device_id.is_empty() || device_id.len() > 128 {
        return Err(AuthError::Input(
            "device_id must be 1–128 characters".into(),
        ));
    }
    let mut keys = vec![Key::account(user_id)];
    keys.extend(from.map(Key::address));
    refuse_if_locked(storage, &keys, now_ms)?;
    let user = check_password(storage, user_id, password, &keys, now_ms)?;
    let token = new_token();
    let record = TokenRecord {
        token_sha256: token_sha256(&token),
        user_id: user.user_id.clone(),
        device_id: device_id.to_owned(),
        created_at_ms: now_ms,
        expires_at_ms: now_ms + ttl_ms,
        revoked_at_ms: None,
    };
    storage.add_token(&record)?;
    let order_prefix = order_prefix(storage, device_id, now_ms)?;
    Ok(Session {
        token,
        record,
        user,
        order_prefix,
    })
}

/// Who a bearer token belongs to, and on which device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub principal: Principal,
    pub device_id: String,
    pub token_sha256: String,
}

/// A fresh token for the same user and device in exchange for `current`, which is revoked: a
/// device that syncs keeps its session alive, while a lost device's token dies when its (short)
/// lifetime ends. Refused for a disabled account like any request.
pub fn refresh(
    storage: &dyn RelayStorage,
    current: &Authenticated,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<Session, AuthError> {
    let user = storage
        .user(&current.principal.user_id)?
        .filter(|u| !u.disabled)
        .ok_or(AuthError::Disabled)?;
    let token = new_token();
    let record = TokenRecord {
        token_sha256: token_sha256(&token),
        user_id: user.user_id.clone(),
        device_id: current.device_id.clone(),
        created_at_ms: now_ms,
        expires_at_ms: now_ms + ttl_ms,
        revoked_at_ms: None,
    };
    storage.add_token(&record)?;
    storage.revoke_token(&current.token_sha256, now_ms)?;
    let order_prefix = order_prefix(storage, &current.device_id, now_ms)?;
    Ok(Session {
        token,
        record,
        user,
        order_prefix,
    })
}

/// Resolve a bearer token at `now_ms`.
pub fn authenticate(
    storage: &dyn RelayStorage,
    token: &str,
    now_ms: i64,
) -> Result<Authenticated, AuthError> {
    let hash = token_sha256(token);
    let Some(t) = storage.token(&hash)? else {
        return Err(AuthError::Invalid);
    };
    if t.revoked_at_ms.is_some() {
        return Err(AuthError::Revoked);
    }
    if now_ms >= t.expires_at_ms {
        return Err(AuthError::Expired);
    }
    let Some(user) = storage.user(&t.user_id)? else {
        return Err(AuthError::Invalid);
    };
    if user.disabled {
        return Err(AuthError::Disabled);
    }
    Ok(Authenticated {
        principal: Principal {
            user_id: user.user_id,
            role: user.role,
            centre: user.centre,
        },
        device_id: t.device_id,
        token_sha256: hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStorage;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(
            hash_password("short").is_err(),
            "short passwords are refused"
        );
    }

    fn storage_with_signed_in(user_id: &str) -> (tempfile::TempDir, SqliteStorage) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStorage::open(&dir.path().join("relay.sqlite3")).unwrap();
        add_user(&s, user_id, user_id, Role::Technician, "password-1", 0).unwrap();
        sign_in(&s, user_id, "password-1", "device-1", 0, 1000, None).unwrap();
        sign_in(&s, user_id, "password-1", "device-2", 0, 1000, None).unwrap();
        (dir, s)
    }

    #[test]
    fn disabling_revokes_every_token_and_refuses_sign_in() {
        let (_dir, s) = storage_with_signed_in("tech.a");
        let session = sign_in(&s, "tech.a", "password-1", "device-3", 0, 1000, None).unwrap();
        assert_eq!(
            disable_user(&s, "tech.a", 10).unwrap(),
            Some(3),
            "all three devices' tokens are revoked"
        );
        assert!(
            matches!(
                authenticate(&s, &session.token, 20),
                Err(AuthError::Revoked)
            ),
            "a revoked token no longer authenticates"
        );
        assert!(
            matches!(
                sign_in(&s, "tech.a", "password-1", "device-1", 20, 1000, None),
                Err(AuthError::Disabled)
            ),
            "a disabled account cannot sign in"
        );
        assert!(enable_user(&s, "tech.a").unwrap(), "the account exists");
        assert!(
            sign_in(&s, "tech.a", "password-1", "device-1", 30, 1000, None).is_ok(),
            "an enabled account signs in again"
        );
    }

    #[test]
    fn resetting_a_password_revokes_every_token() {
        let (_dir, s) = storage_with_signed_in("tech.a");
        assert_eq!(
            reset_password(&s, "tech.a", "password-2", 10).unwrap(),
            Some(2),
            "both devices must sign in again"
        );
        assert!(
            matches!(
                sign_in(&s, "tech.a", "password-1", "device-1", 20, 1000, None),
                Err(AuthError::BadCredentials)
            ),
            "the old password no longer works"
        );
        assert!(
            sign_in(&s, "tech.a", "password-2", "device-1", 20, 1000, None).is_ok(),
            "the new password works"
        );
    }

    #[test]
    fn account_changes_to_an_unknown_user_say_so() {
        let (_dir, s) = storage_with_signed_in("tech.a");
        assert_eq!(
            disable_user(&s, "nobody", 10).unwrap(),
            None,
            "no such user"
        );
        assert!(!enable_user(&s, "nobody").unwrap(), "no such user");
        assert_eq!(
            reset_password(&s, "nobody", "password-2", 10).unwrap(),
            None,
            "no such user"
        );
        assert!(
            authenticate(
                &s,
                &sign_in(&s, "tech.a", "password-1", "d", 10, 1000, None)
                    .unwrap()
                    .token,
                11
            )
            .is_ok(),
            "other accounts are untouched"
        );
    }

    #[test]
    fn order_prefixes_are_unique_per_device_and_stable() {
        let (_dir, s) = storage_with_signed_in("tech.a");
        let first = sign_in(&s, "tech.a", "password-1", "device-1", 5, 1000, None)
            .unwrap()
            .order_prefix;
        assert!(
            (2..=6).contains(&first.len())
                && first
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "a prefix is 2–6 of [A-Z0-9], got {first:?}"
        );
        let again = sign_in(&s, "tech.a", "password-1", "device-1", 6, 1000, None).unwrap();
        assert_eq!(again.order_prefix, first, "a device keeps its prefix");
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..200 {
            let p = order_prefix(&s, &format!("dev-{n}"), 7).unwrap();
            assert!(
                seen.insert(p.clone()),
                "prefix {p} was given to two devices"
            );
        }
        assert!(
            !s.claim_order_prefix("dev-new", &first, 8).unwrap(),
            "a prefix held by another device cannot be claimed"
        );
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("ons_") && a.len() > 40);
        assert_eq!(token_sha256(&a).len(), 64);
        assert_ne!(token_sha256(&a), a);
    }

    fn fail(s: &SqliteStorage, user: &str, from: Option<IpAddr>, now: i64) -> AuthError {
        sign_in(s, user, "not-the-password", "device-x", now, 1000, from)
            .expect_err("a wrong password is refused")
    }

    #[test]
    fn unknown_users_and_wrong_passwords_get_the_same_answer_and_both_count() {
        let (_dir, s) = storage_with_signed_in("tech.a");
        for user in ["tech.a", "nobody"] {
            for n in 1..=5 {
                let e = fail(&s, user, None, n);
                assert!(
                    matches!(e, AuthError::BadCredentials),
                    "{user}, failure {n}: the answer does not say whether the account exists: {e:?}"
                );
            }
            assert!(
                matches!(fail(&s, user, None, 6), AuthError::BadCredentials),
                "the sixth failure is still answered, and locks"
            );
            assert!(
                matches!(
                    fail(&s, user, None, 7),
                    AuthError::Throttled { wait_ms: 999 }
                ),
                "{user}: after five free failures the account waits 1 s"
            );
        }
    }

    #[test]
    fn a_locked_account_refuses_even_the_right_password_until_the_lock_ends_or_is_lifted() {
        let (_dir, s) = storage_with_signed_in("tech.a");
        for n in 0..6 {
            fail(&s, "tech.a", None, 100 + n);
        }
        let locked = sign_in(&s, "tech.a", "password-1", "device-1", 106, 1000, None);
        assert!(
            matches!(locked, Err(AuthError::Throttled { .. })),
            "locked: no password is checked, right or wrong: {locked:?}"
        );
        assert!(
            sign_in(
                &s,
                "tech.a",
                "password-1",
                "device-1",
                105 + 1_000,
                1000,
                None
            )
            .is_ok(),
            "the 1 s lock ends by itself"
        );
        // A patient guesser waits out each lock: the locks double.
        let mut t = 2_000;
        for _ in 0..8 {
            t = match fail(&s, "tech.a", None, t) {
                AuthError::Throttled { wait_ms } => t + wait_ms,
                _ => t + 1,
            };
        }
        assert!(
            matches!(
                sign_in(&s, "tech.a", "password-1", "device-1", t, 1000, None),
                Err(AuthError::Throttled { wait_ms }) if wait_ms > 1_000
            ),
            "more failures, a longer lock"
        );
        assert!(
            unlock_user(&s, "tech.a").unwrap(),
            "an administrator lifts it"
        );
        assert!(
            sign_in(&s, "tech.a", "password-1", "device-1", t + 1, 1000, None).is_ok(),
            "and the technician signs in at once"
        );
        assert!(
            !unlock_user(&s, "tech.a").unwrap(),
            "a successful sign-in cleared the failures"
        );
    }

    #[test]
    fn one_address_guessing_many_accounts_is_locked_by_its_address() {
        let (_dir, s) = storage_with_signed_in("tech.a");
        let attacker: IpAddr = "192.0.2.66".parse().unwrap();
        for n in 0..21 {
            fail(&s, &format!("user-{n}"), Some(attacker), 10 + n);
        }
        assert!(
            matches!(
                sign_in(&s, "tech.a", "password-1", "d", 40, 1000, Some(attacker)),
                Err(AuthError::Throttled { .. })
            ),
            "twenty-one failures on different accounts lock the address"
        );
        let elsewhere: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(
            sign_in(&s, "tech.a", "password-1", "d", 40, 1000, Some(elsewhere)).is_ok(),
            "the technician on another network is not locked out"
        );
    }

    #[test]
    fn a_disabled_account_never_confirms_a_password() {
        let (_dir, s) = storage_with_signed_in("tech.a");
        disable_user(&s, "tech.a", 10).unwrap();
        for password in ["password-1", "wrong-password"] {
            let e = sign_in(&s, "tech.a", password, "d", 20, 1000, None).unwrap_err();
            assert!(
                matches!(e, AuthError::Disabled),
                "right or wrong, the answer is the same: {e:?}"
            );
        }
    }
}
