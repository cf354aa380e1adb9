//! Who may join: the per-address limit on failed joins (against password guessing), the
//! operator's room passwords and signed join tokens, checked before the room registry sees a
//! join; which refusals count as failed attempts.

use std::net::IpAddr;
use std::time::{Instant, SystemTime};

use meshmeet_protocol::{is_valid_client_key, validate_display_name, validate_room_name, RoomName};
use subtle::ConstantTimeEq;
use tracing::warn;

use super::{lock, Access, AddressKey};
use crate::error::RelayError;
use crate::limits::TokenBucket;
use crate::token::{self, TokenError};

/// Addresses whose failed joins are remembered at most; past this, addresses whose record
/// has been forgiven entirely are forgotten first.
const MAX_TRACKED_ADDRESSES: usize = 65_536;

/// What a join may do once admitted: the name it appears under (a token's name wins), the
/// password the room registry should check (none when the operator's password or a token
/// already decided), and how to recognise the person again if the host removes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Validated display name.
    pub name: String,
    /// The password for the registry to check or set.
    pub password: Option<String>,
    /// Admitted by a token or the operator's password: the registry checks no password.
    pub vouched: bool,
    /// Who this is, for the room's list of removed participants.
    pub identity: Option<String>,
}

/// A join as the client sent it.
#[derive(Clone, Copy, Debug)]
pub struct JoinAttempt<'a> {
    /// The room (validated by [`Access::admit`]).
    pub room: &'a RoomName,
    /// The display name as sent.
    pub name: &'a str,
    /// The password, if any.
    pub password: Option<&'a str>,
    /// The join token, if any.
    pub token: Option<&'a str>,
    /// The client's own key, if any.
    pub client_key: Option<&'a str>,
}

impl Access {
    /// Everything the relay decides about a join before the room registry sees it, in
    /// order: the room's name, the failed attempts of the client's address `ip`, then
    /// [`Access::admit_join`]. A refusal that [`is_failed_attempt`] counts against `ip`.
    pub fn admit(
        &self,
        ip: Option<IpAddr>,
        join: JoinAttempt<'_>,
    ) -> Result<Admission, RelayError> {
        validate_room_name(join.room.as_str(), self.max_room_name_chars)
            .map_err(RelayError::InvalidRoom)?;
        // An address that used up its failed attempts is refused before its password or
        // token is even looked at, right or wrong, so guessing gains nothing.
        self.check_attempts(ip, Instant::now())?;
        self.admit_join(join, SystemTime::now())
            .map_err(|err| self.count_failure(ip, err))
    }

    /// Counts `err` against `ip` when it [`is_failed_attempt`], and gives it back: for the
    /// room registry's refusals too (a room's own password is checked there).
    pub fn count_failure(&self, ip: Option<IpAddr>, err: RelayError) -> RelayError {
        if is_failed_attempt(&err) {
            self.record_failure(ip, Instant::now());
        }
        err
    }

    /// Refuses a join from an address that has used up its failed attempts.
    pub fn check_attempts(&self, ip: Option<IpAddr>, now: Instant) -> Result<(), RelayError> {
        let Some(ip) = ip else {
            return Ok(());
        };
        let mut failures = lock(&self.failures);
        let Some(bucket) = failures.get_mut(&AddressKey::of(ip)) else {
            return Ok(());
        };
        let wait = bucket.time_until_available(now);
        if wait.is_zero() {
            Ok(())
        } else {
            Err(RelayError::TooManyAttempts {
                retry_after_secs: wait.as_secs().saturating_add(1),
            })
        }
    }

    /// Counts a failed join (wrong password, bad or expired token) against `ip`.
    pub fn record_failure(&self, ip: Option<IpAddr>, now: Instant) {
        let Some(ip) = ip else {
            return;
        };
        let key = AddressKey::of(ip);
        let mut failures = lock(&self.failures);
        if failures.len() >= MAX_TRACKED_ADDRESSES && !failures.contains_key(&key) {
            failures.retain(|_, bucket| !bucket.is_full(now));
            if failures.len() >= MAX_TRACKED_ADDRESSES {
                warn!(address = %key, "too many addresses with failed joins to remember another");
                return;
            }
        }
        let bucket = failures.entry(key).or_insert_with(|| {
            TokenBucket::new(self.failure_burst, self.failures_forgiven_per_second, now)
        });
        if !bucket.try_take(now) {
            warn!(address = %key, "failed joins from one address over the limit");
        }
    }

    /// Decides what a join may do before the room registry sees it: checks the token (if
    /// given, or required), the operator's password for the room (if it has one), and the
    /// display name.
    pub fn admit_join(
        &self,
        join: JoinAttempt<'_>,
        now: SystemTime,
    ) -> Result<Admission, RelayError> {
        // A key the relay could not record must not let its sender past a removal.
        let identity = match join.client_key {
            Some(key) if is_valid_client_key(key) => Some(format!("key:{key}")),
            Some(_) => return Err(RelayError::InvalidClientKey),
            None => None,
        };
        let token = join.token.filter(|token| !token.is_empty());
        let claims = match (token, &self.token_secret) {
            (Some(token), Some(secret)) => {
                match token::verify(secret.expose().as_bytes(), token, join.room.as_str(), now) {
                    Ok(claims) => Some(claims),
                    Err(TokenError::Expired) => return Err(RelayError::TokenExpired),
                    Err(err) => return Err(RelayError::InvalidToken(err.to_string())),
                }
            }
            (Some(_), None) => {
                return Err(RelayError::InvalidToken(
                    "this relay does not accept join tokens".into(),
                ))
            }
            (None, _) if self.require_token => {
                return Err(RelayError::InvalidToken(
                    "this relay admits only with a join token; use the link you were sent".into(),
                ))
            }
            (None, _) => None,
        };
        let name = claims
            .as_ref()
            .map_or(join.name, |claims| claims.name.as_str());
        let name = validate_display_name(name, self.max_display_name_chars)
            .map_err(RelayError::InvalidName)?
            .to_owned();
        if let Some(claims) = claims {
            return Ok(Admission {
                identity: Some(format!("token:{}", claims.name)),
                name,
                password: None,
                vouched: true,
            });
        }
        let password = join.password.filter(|p| !p.is_empty());
        if let Some(expected) = self.room_passwords.get(join.room.as_str()) {
            // Constant time over the bytes (see the registry's comparison).
            let matches = password.is_some_and(|given| {
                bool::from(expected.expose().as_bytes().ct_eq(given.as_bytes()))
            });
            if !matches {
                return Err(RelayError::WrongPassword);
            }
            return Ok(Admission {
                name,
                password: None,
                vouched: true,
                identity,
            });
        }
        Ok(Admission {
            name,
            password: password.map(str::to_owned),
            vouched: false,
            identity,
        })
    }
}

/// Whether a refused join counts against its address's failed attempts.
pub fn is_failed_attempt(err: &RelayError) -> bool {
    matches!(
        err,
        RelayError::WrongPassword | RelayError::InvalidToken(_) | RelayError::TokenExpired
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, RoomPassword, Secret};
    use crate::token::Claims;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    fn access(config: Config) -> Arc<Access> {
        Arc::new(Access::new(&config))
    }

    fn attempt<'a>(
        room: &'a RoomName,
        password: Option<&'a str>,
        token: Option<&'a str>,
    ) -> JoinAttempt<'a> {
        JoinAttempt {
            room,
            name: "Ana",
            password,
            token,
            client_key: Some("0123456789abcdef0123456789abcdef"),
        }
    }

    #[test]
    fn failed_joins_lock_an_address_out_until_forgiven() {
        let rules = access(Config {
            max_failed_joins: 3,
            failed_join_window: Duration::from_secs(30),
            ..Config::default()
        });
        let ip = Some("192.0.2.1".parse().expect("ip"));
        let other = Some("192.0.2.2".parse().expect("ip"));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(rules.check_attempts(ip, start), Ok(()));
            rules.record_failure(ip, start);
        }
        assert_eq!(
            rules.check_attempts(ip, start),
            Err(RelayError::TooManyAttempts {
                retry_after_secs: 11
            })
        );
        assert_eq!(rules.check_attempts(other, start), Ok(()));
        // One failure is forgiven every 10 s.
        assert_eq!(
            rules.check_attempts(ip, start + Duration::from_secs(10)),
            Ok(())
        );
    }

    #[test]
    fn operator_passwords_and_tokens_decide_before_the_registry() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let rules = access(Config {
            room_passwords: vec![RoomPassword {
                room: "board".into(),
                password: Secret::from("s3cret"),
            }],
            token_secret: Some(Secret::from("k")),
            ..Config::default()
        });
        let board = RoomName("board".into());
        assert_eq!(
            rules.admit_join(attempt(&board, Some("guess"), None), now),
            Err(RelayError::WrongPassword)
        );
        let admitted = rules
            .admit_join(attempt(&board, Some("s3cret"), None), now)
            .expect("right password");
        assert!(admitted.vouched && admitted.password.is_none());
        assert_eq!(
            admitted.identity.as_deref(),
            Some("key:0123456789abcdef0123456789abcdef")
        );

        let token = token::mint(
            b"k",
            &Claims {
                room: "board".into(),
                name: "Dr. Ana".into(),
                exp: 2_000,
            },
        );
        let admitted = rules
            .admit_join(attempt(&board, None, Some(&token)), now)
            .expect("token");
        assert_eq!(admitted.name, "Dr. Ana", "the token's name wins");
        assert_eq!(admitted.identity.as_deref(), Some("token:Dr. Ana"));
        let later = UNIX_EPOCH + Duration::from_secs(2_000);
        assert_eq!(
            rules.admit_join(attempt(&board, None, Some(&token)), later),
            Err(RelayError::TokenExpired)
        );
        let other = RoomName("other".into());
        assert!(matches!(
            rules.admit_join(attempt(&other, None, Some(&token)), now),
            Err(RelayError::InvalidToken(_))
        ));
        let open = rules
            .admit_join(attempt(&other, Some("pw"), None), now)
            .expect("no operator password");
        assert_eq!(open.password.as_deref(), Some("pw"));
        assert!(!open.vouched);
    }

    #[test]
    fn a_relay_that_requires_tokens_refuses_joins_without_one() {
        let rules = access(Config {
            token_secret: Some(Secret::from("k")),
            require_token: true,
            ..Config::default()
        });
        let room = RoomName("r".into());
        assert!(matches!(
            rules.admit_join(attempt(&room, None, None), SystemTime::now()),
            Err(RelayError::InvalidToken(_))
        ));
    }

    #[test]
    fn a_locked_out_address_is_refused_even_with_the_right_password() {
        let rules = access(Config {
            room_passwords: vec![RoomPassword {
                room: "board".into(),
                password: Secret::from("s3cret"),
            }],
            max_failed_joins: 2,
            ..Config::default()
        });
        let ip = Some("192.0.2.1".parse().expect("ip"));
        let other = Some("192.0.2.2".parse().expect("ip"));
        let board = RoomName("board".into());
        for _ in 0..2 {
            assert_eq!(
                rules.admit(ip, attempt(&board, Some("guess"), None)),
                Err(RelayError::WrongPassword)
            );
        }
        assert!(matches!(
            rules.admit(ip, attempt(&board, Some("s3cret"), None)),
            Err(RelayError::TooManyAttempts { .. })
        ));
        assert!(rules
            .admit(other, attempt(&board, Some("s3cret"), None))
            .is_ok());
    }

    #[test]
    fn only_wrong_passwords_and_bad_tokens_count_as_failed_attempts() {
        let rules = access(Config {
            max_failed_joins: 1,
            ..Config::default()
        });
        let ip = Some("192.0.2.1".parse().expect("ip"));
        let bad_room = RoomName("no/slashes".into());
        let room = RoomName("r".into());
        assert!(matches!(
            rules.admit(ip, attempt(&bad_room, None, None)),
            Err(RelayError::InvalidRoom(_))
        ));
        assert!(matches!(
            rules.admit(ip, attempt(&room, None, Some("token"))),
            Err(RelayError::InvalidToken(_))
        ));
        assert!(matches!(
            rules.admit(ip, attempt(&room, None, None)),
            Err(RelayError::TooManyAttempts { .. })
        ));

        // A wrong room password, as the registry finds it, counts the same.
        let rules = access(Config {
            max_failed_joins: 1,
            ..Config::default()
        });
        assert_eq!(
            rules.count_failure(ip, RelayError::RoomFull { max: 2 }),
            RelayError::RoomFull { max: 2 }
        );
        assert!(rules.admit(ip, attempt(&room, None, None)).is_ok());
        rules.count_failure(ip, RelayError::WrongPassword);
        assert!(matches!(
            rules.admit(ip, attempt(&room, None, None)),
            Err(RelayError::TooManyAttempts { .. })
        ));
    }
}
