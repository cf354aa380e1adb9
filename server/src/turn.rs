//! The ICE servers each participant is given: the STUN URLs, and the TURN URLs with either
//! the operator's fixed credentials or credentials minted per participant the way coturn's
//! `use-auth-secret` expects (the TURN REST API, draft-uberti-behave-turn-rest).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use meshmeet_protocol::IceServer;
use sha1::Sha1;

use crate::config::Config;

/// TURN REST API credentials: `username` is `<expiry in Unix seconds>:<id>`, `credential` is
/// base64(HMAC-SHA1(secret, username)). A TURN server with the same secret recomputes the
/// password from the username and refuses it once the expiry has passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestCredentials {
    /// `<expiry>:<id>`.
    pub username: String,
    /// base64 of the HMAC-SHA1 of the username.
    pub credential: String,
}

/// Mints credentials for `id` that expire at `expiry_unix_secs`.
pub fn rest_credentials(secret: &str, expiry_unix_secs: u64, id: &str) -> RestCredentials {
    let username = format!("{expiry_unix_secs}:{id}");
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    RestCredentials {
        username,
        credential,
    }
}

/// The ICE servers for one participant at `now`: one entry with every STUN URL, one with
/// every TURN URL and its credentials. `id` names the participant in minted usernames (the
/// TURN server logs it).
pub fn ice_servers(config: &Config, id: &str, now: SystemTime) -> Vec<IceServer> {
    let mut servers = Vec::new();
    if !config.stun_urls.is_empty() {
        servers.push(IceServer {
            urls: config.stun_urls.clone(),
            username: None,
            credential: None,
        });
    }
    if config.turn_urls.is_empty() {
        return servers;
    }
    let (username, credential) = match (&config.turn_secret, &config.turn_username) {
        (Some(secret), _) => {
            let expiry = unix_secs(now).saturating_add(config.turn_credential_ttl.as_secs());
            let minted = rest_credentials(secret.expose(), expiry, id);
            (Some(minted.username), Some(minted.credential))
        }
        (None, Some(username)) => (
            Some(username.clone()),
            config
                .turn_password
                .as_ref()
                .map(|password| password.expose().to_owned()),
        ),
        (None, None) => (None, None),
    };
    servers.push(IceServer {
        urls: config.turn_urls.clone(),
        username,
        credential,
    });
    servers
}

/// How often a participant gets fresh credentials: at half their lifetime, so the new ones
/// arrive long before the old ones expire. `None` when nothing is minted.
pub fn renewal_interval(config: &Config) -> Option<Duration> {
    (config.turn_secret.is_some() && !config.turn_urls.is_empty())
        .then(|| config.turn_credential_ttl / 2)
}

fn unix_secs(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn rest_credentials_match_a_known_hmac_sha1_vector() {
        // Computed independently: printf '1700000000:ana' | openssl dgst -sha1 -hmac north -binary | base64
        let minted = rest_credentials("north", 1_700_000_000, "ana");
        assert_eq!(minted.username, "1700000000:ana");
        assert_eq!(minted.credential, "/V6vMibmvRAPIMy3tyPu2GxFkDI=");
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202_test_case_2() {
        // RFC 2202 section 3, test case 2: the primitive the credentials are built on.
        let mut mac = Hmac::<Sha1>::new_from_slice(b"Jefe").expect("any key length");
        mac.update(b"what do ya want for nothing?");
        let hex = hex::encode(mac.finalize().into_bytes());
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn minted_servers_expire_after_the_ttl_and_static_ones_pass_through() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let config = Config {
            stun_urls: vec!["stun:stun.example.org:3478".into()],
            turn_urls: vec!["turn:turn.example.org:3478".into()],
            turn_secret: Some(Secret::from("north")),
            turn_credential_ttl: Duration::from_secs(600),
            ..Config::default()
        };
        let servers = ice_servers(&config, "p1", now);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].username, None);
        let turn = &servers[1];
        assert_eq!(turn.username.as_deref(), Some("1600:p1"));
        assert_eq!(
            turn.credential,
            Some(rest_credentials("north", 1600, "p1").credential)
        );
        assert_eq!(renewal_interval(&config), Some(Duration::from_secs(300)));

        let fixed = Config {
            turn_urls: vec!["turns:turn.example.org:5349".into()],
            turn_username: Some("meet".into()),
            turn_password: Some(Secret::from("pw")),
            ..Config::default()
        };
        let servers = ice_servers(&fixed, "p1", now);
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].username.as_deref(), Some("meet"));
        assert_eq!(servers[0].credential.as_deref(), Some("pw"));
        assert_eq!(renewal_interval(&fixed), None);
        assert!(ice_servers(&Config::default(), "p1", now).is_empty());
    }
}
