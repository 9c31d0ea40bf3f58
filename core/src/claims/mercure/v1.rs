//! Reading a 1.0 token's `authorization_details` into [`MercureGrants`].

use serde_json::Value;

use super::{
    Dialect, MercureGrants, SubscribePayload, V1Claims, DETAIL_TYPE, MAX_DETAILS, MAX_SELECTORS,
};
use crate::uri_match::{MatchKind, UriSelector};

/// What one Mercure authorization detail grants.
struct Detail {
    publish: bool,
    subscribe: bool,
    topics: Vec<UriSelector>,
    payload: Option<Value>,
}

impl V1Claims {
    /// The grants of the details of a 1.0 token verified by key `kid` (`iss`, `aud`,
    /// `exp` are the caller's to check); `base` resolves relative URL patterns. `Err`
    /// names the faulty detail.
    pub fn into_grants(self, kid: String, base: Option<&str>) -> Result<MercureGrants, String> {
        let details = self.authorization_details.unwrap_or_default();
        let mut grants = MercureGrants {
            dialect: Dialect::V1,
            kid,
            exp: self.exp,
            sub: self.sub,
            publish: Vec::new(),
            subscribe: Vec::new(),
            payloads: Vec::new(),
        };
        let mercure: Vec<(usize, &Value)> = details
            .iter()
            .enumerate()
            .filter(|(_, d)| d.get("type").and_then(Value::as_str) == Some(DETAIL_TYPE))
            .collect();
        if mercure.len() > MAX_DETAILS {
            return Err(format!(
                "the token has more than {MAX_DETAILS} Mercure authorization details"
            ));
        }
        let mut count = 0;
        for (i, value) in mercure {
            let detail = read_detail(value, base)
                .map_err(|why| format!("authorization_details[{i}]: {why}"))?;
            count += detail.topics.len();
            if count > MAX_SELECTORS {
                return Err(format!(
                    "the authorization details have more than {MAX_SELECTORS} topic matchers"
                ));
            }
            if detail.publish {
                grants.publish.extend(detail.topics.iter().cloned());
            }
            if detail.subscribe {
                if let Some(payload) = detail.payload {
                    grants.payloads.push(SubscribePayload {
                        topics: detail.topics.clone(),
                        payload,
                    });
                }
                grants.subscribe.extend(detail.topics);
            }
        }
        Ok(grants)
    }
}

fn read_detail(value: &Value, base: Option<&str>) -> Result<Detail, String> {
    let actions = match value.get("actions") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) => return Err("`actions` is empty".into()),
        Some(_) => return Err("`actions` is not an array".into()),
        None => return Err("`actions` is missing".into()),
    };
    let (mut publish, mut subscribe) = (false, false);
    for action in actions {
        match action.as_str() {
            Some("publish") => publish = true,
            Some("subscribe") => subscribe = true,
            Some(_) => {}
            None => return Err("an entry of `actions` is not a string".into()),
        }
    }
    let topics = match value.get("topics") {
        Some(Value::Array(t)) if !t.is_empty() => t,
        Some(Value::Array(_)) => return Err("`topics` is empty".into()),
        Some(_) => return Err("`topics` is not an array".into()),
        None => return Err("`topics` is missing".into()),
    };
    if topics.len() > MAX_SELECTORS {
        return Err(format!("`topics` has more than {MAX_SELECTORS} entries"));
    }
    let topics = topics
        .iter()
        .enumerate()
        .map(|(j, t)| read_matcher(t, base).map_err(|why| format!("topics[{j}]: {why}")))
        .collect::<Result<Vec<_>, _>>()?;
    let payload = match value.get("payload") {
        None => None,
        Some(p @ Value::Object(_)) => Some(p.clone()),
        Some(_) => return Err("`payload` is not an object".into()),
    };
    Ok(Detail {
        publish,
        subscribe,
        topics,
        payload,
    })
}

fn read_matcher(value: &Value, base: Option<&str>) -> Result<UriSelector, String> {
    let Value::Object(obj) = value else {
        return Err("not an object".into());
    };
    let pattern = match obj.get("match") {
        Some(Value::String(s)) => s,
        Some(_) => return Err("`match` is not a string".into()),
        None => return Err("`match` is missing".into()),
    };
    let kind = match obj.get("match_type") {
        None => MatchKind::Exact,
        Some(Value::String(t)) => MatchKind::from_match_type(t)
            .ok_or_else(|| format!("match_type {t:?} is not supported (exact, urlpattern)"))?,
        Some(_) => return Err("`match_type` is not a string".into()),
    };
    UriSelector::parse_v1(kind, pattern, base).map_err(|e| e.to_string())
}
