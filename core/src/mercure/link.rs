//! The link of a Mercure stream: Fanout requests it on its own (`Grip-Link`), at the
//! token's expiry (to end the stream) and at least once per registry refresh interval
//! (so the stream's registered channels never expire, see
//! [`crate::audience::registry`]). That request carries no client header, so the link
//! carries what it needs, signed:
//!
//! ```text
//! /.well-known/mercure/link/<exp>.<until>.<kid>.<mac>?c=<channel>&c=...
//! ```
//!
//! `exp` is the token's expiry (`0`: none, or an anonymous stream), `until` when the
//! link is due (issue time plus the refresh interval, never later than `exp`), `kid` the
//! token's key (empty for an anonymous stream), and `mac` the base64url HMAC-SHA256,
//! under Secret Store entry [`SECRET`](grant::SECRET), of those and the channels
//! in order. A verified link holds the stream on exactly those channels again; one past
//! `exp`, or whose key is gone from KV store `keys`, ends it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::grant;
use crate::keys;
use crate::ports::KvStore;
use crate::principal::LEEWAY_SECS;
use crate::Error;

/// What a link stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The token's expiry; `None` when it has none or the stream is anonymous.
    pub exp: Option<u64>,
    /// When the link is due, seconds since the epoch.
    pub until: u64,
    /// The token's key; empty for an anonymous stream.
    pub kid: String,
}

/// Why a link ends its stream instead of holding it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The token expired.
    Expired,
    /// The token's key was revoked.
    Revoked,
}

fn mac(key: &[u8], link: &Link, channels: &[String]) -> Result<Hmac<Sha256>, Error> {
    let mut mac = grant::keyed(key)?;
    mac.update(b"edge-pubsub mercure link 1\0");
    let fields = [link.exp.unwrap_or(0).to_string(), link.until.to_string()];
    for field in fields.iter().map(String::as_str).chain([link.kid.as_str()]) {
        mac.update(field.as_bytes());
        mac.update(b"\0");
    }
    for channel in channels {
        mac.update(channel.as_bytes());
        mac.update(b"\0");
    }
    Ok(mac)
}

/// The signed text of `link` for `channels`, with `key`.
pub fn issue(key: &[u8], link: &Link, channels: &[String]) -> Result<String, Error> {
    let tag = mac(key, link, channels)?.finalize().into_bytes();
    let exp = link.exp.unwrap_or(0);
    let tag = URL_SAFE_NO_PAD.encode(tag);
    Ok(format!("{exp}.{}.{}.{tag}", link.until, link.kid))
}

/// The link `text` stands for, if `key` signed it for exactly `channels`. `Ok(Err(_))`:
/// it verifies but its stream ends now (`now` past the token's `exp`, or its key gone
/// from `kv`).
pub fn verify(
    key: &[u8],
    text: &str,
    channels: &[String],
    now: u64,
    kv: &dyn KvStore,
) -> Result<Result<Link, Ended>, Error> {
    let invalid = || Error::InvalidToken("the Mercure link does not verify".into());
    let mut parts = text.splitn(4, '.');
    let (Some(exp), Some(until), Some(kid), Some(tag)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let exp: u64 = exp.parse().map_err(|_| invalid())?;
    let link = Link {
        exp: (exp != 0).then_some(exp),
        until: until.parse().map_err(|_| invalid())?,
        kid: kid.to_owned(),
    };
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
    mac(key, &link, channels)?
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    if link
        .exp
        .is_some_and(|exp| now > exp.saturating_add(LEEWAY_SECS))
    {
        return Ok(Err(Ended::Expired));
    }
    if !link.kid.is_empty() {
        match kv.lookup(keys::STORE, &link.kid) {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(Err(Ended::Revoked)),
            Err(e) => return Err(Error::StoreUnavailable(format!("key lookup failed: {e}"))),
        }
    }
    Ok(Ok(link))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::memory::InMemory;

    #[test]
    fn a_link_verifies_for_its_channels_only_and_ends_at_expiry_or_revocation() {
        let mem = InMemory::new().with_hs256_key("k", "s");
        let channels = vec!["m#*".to_owned(), "https://x/1".to_owned()];
        let link = Link {
            exp: Some(1_000),
            until: 900,
            kid: "k".into(),
        };
        let text = issue(b"key", &link, &channels).expect("issued");
        let verified = verify(b"key", &text, &channels, 800, &*mem.kv).expect("verifies");
        assert_eq!(verified, Ok(link.clone()));
        let other = vec!["m#*".to_owned()];
        assert!(verify(b"key", &text, &other, 800, &*mem.kv).is_err());
        assert!(verify(b"other", &text, &channels, 800, &*mem.kv).is_err());
        let late = 1_000 + LEEWAY_SECS + 1;
        let ended = verify(b"key", &text, &channels, late, &*mem.kv).expect("verifies");
        assert_eq!(ended, Err(Ended::Expired));
        mem.kv.delete(keys::STORE, "k").expect("deleted");
        let ended = verify(b"key", &text, &channels, 800, &*mem.kv).expect("verifies");
        assert_eq!(ended, Err(Ended::Revoked));
        let anonymous = Link {
            exp: None,
            until: 900,
            kid: String::new(),
        };
        let text = issue(b"key", &anonymous, &channels).expect("issued");
        let verified = verify(b"key", &text, &channels, 5_000, &*mem.kv).expect("verifies");
        assert_eq!(verified, Ok(anonymous));
        assert!(issue(b"", &link, &channels).is_err(), "no key, no link");
    }
}
