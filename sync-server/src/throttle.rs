//! Sign-in throttling: a few failed sign-ins for one account, or from one client address, are
//! free; after that each failure locks further attempts for an exponentially growing time,
//! capped. A locked key is refused before any password is hashed, so a guessing attacker costs
//! the relay almost nothing. The account's cap is short (a technician locked out by someone else's
//! guesses is back within minutes, or at once when an administrator runs `onsite-relay user
//! unlock`); the address's cap is longer, since it only slows the guessing client.
//!
//! The policy here is pure; the counters are in the relay's storage (so the command-line tool can
//! lift a lock and a restart does not reset them).

use std::net::IpAddr;

/// How failures on one key turn into a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures that lock nothing.
    pub free_failures: u32,
    /// The lock after the first failure beyond the free ones; doubled with each further one.
    pub base_lock_ms: i64,
    /// The longest lock.
    pub max_lock_ms: i64,
}

/// Per account: five free failures, then 1 s, 2 s, 4 s, … up to 5 minutes.
pub const ACCOUNT: Policy = Policy {
    free_failures: 5,
    base_lock_ms: 1_000,
    max_lock_ms: 5 * 60_000,
};

/// Per client address: twenty free failures (a centre's devices may share one address), then
/// 1 s, 2 s, 4 s, … up to 15 minutes.
pub const ADDRESS: Policy = Policy {
    free_failures: 20,
    base_lock_ms: 1_000,
    max_lock_ms: 15 * 60_000,
};

impl Policy {
    /// How long sign-ins on a key stay locked after its `failures`-th consecutive failure.
    pub fn lock_ms(&self, failures: u32) -> i64 {
        if failures <= self.free_failures {
            return 0;
        }
        let doublings = (failures - self.free_failures - 1).min(40);
        self.base_lock_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.max_lock_ms)
    }
}

/// The failed sign-ins recorded for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    /// Consecutive failures (a success clears them).
    pub failures: u32,
    /// Until when sign-ins on the key are refused (0: not locked).
    pub locked_until_ms: i64,
}

impl Attempts {
    /// Milliseconds still to wait at `now_ms`, if locked.
    pub fn wait_ms(&self, now_ms: i64) -> Option<i64> {
        (self.locked_until_ms > now_ms).then(|| self.locked_until_ms - now_ms)
    }
}

/// One throttled key: an account or a client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub text: String,
    pub policy: Policy,
}

impl Key {
    pub fn account(user_id: &str) -> Key {
        Key {
            text: format!("account:{user_id}"),
            policy: ACCOUNT,
        }
    }

    pub fn address(ip: IpAddr) -> Key {
        // One IPv6 client controls a whole /64: throttle the prefix, not the address.
        let text = match ip {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            IpAddr::V6(v6) => format!("address:{}", v6.to_ipv4_mapped().expect("mapped")),
            IpAddr::V4(v4) => format!("address:{v4}"),
        };
        Key {
            text,
            policy: ADDRESS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_failures_lock_nothing_then_the_lock_doubles_up_to_its_cap() {
        let locks: Vec<i64> = (1..=16).map(|n| ACCOUNT.lock_ms(n)).collect();
        assert_eq!(&locks[..5], &[0; 5], "five failures are free");
        assert_eq!(
            &locks[5..10],
            &[1_000, 2_000, 4_000, 8_000, 16_000],
            "then the lock doubles"
        );
        assert!(
            locks.iter().all(|&l| l <= 5 * 60_000),
            "an account is never locked for more than five minutes: {locks:?}"
        );
        assert_eq!(
            ACCOUNT.lock_ms(u32::MAX),
            5 * 60_000,
            "no overflow at the cap"
        );
        assert_eq!(ADDRESS.lock_ms(20), 0);
        assert_eq!(ADDRESS.lock_ms(1_000), 15 * 60_000);
    }

    #[test]
    fn a_lock_is_waited_out_only_until_it_ends() {
        let a = Attempts {
            failures: 7,
            locked_until_ms: 10_000,
        };
        assert_eq!(a.wait_ms(9_000), Some(1_000));
        assert_eq!(a.wait_ms(10_000), None, "the lock ends at its time");
        assert_eq!(Attempts::default().wait_ms(0), None);
    }

    #[test]
    fn an_ipv6_client_is_throttled_by_its_64_prefix() {
        let a = Key::address("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = Key::address("2001:db8:1:2:bbbb::9".parse().expect("ip"));
        assert_eq!(a, b, "one /64 is one client");
        let v4 = Key::address("::ffff:192.0.2.7".parse().expect("ip"));
        assert_eq!(v4.text, "address:192.0.2.7", "IPv4 behind a mapped address");
    }
}
