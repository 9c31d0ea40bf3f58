//! The MQTT reason codes as the code knows them, for `tests/docs_facts.rs`: the codec's name
//! of each code per packet, and the codes the broker's product code sends (read from the
//! handlers' and core's sources, and from `DecodeError::reason_code`).
#![allow(unreachable_pub, dead_code, missing_docs)]

use std::collections::BTreeSet;

use pubsub_codec::mqtt::{
    AuthReasonCode, ConnectReasonCode, DisconnectReasonCode, PubAckReasonCode, PubRelReasonCode,
    SubAckReasonCode, UnsubAckReasonCode,
};

use super::markdown::{read, root};

/// The codec's name of `code` in `packet`'s reason-code enum, if it has one.
pub fn codec_name(packet: &str, code: u8) -> Option<String> {
    let name = |r: Result<String, u8>| r.ok();
    match packet {
        "CONNACK" => name(ConnectReasonCode::try_from(code).map(|c| format!("{c:?}"))),
        "SUBACK" => name(SubAckReasonCode::try_from(code).map(|c| format!("{c:?}"))),
        "UNSUBACK" => name(UnsubAckReasonCode::try_from(code).map(|c| format!("{c:?}"))),
        "PUBACK" | "PUBREC" => name(PubAckReasonCode::try_from(code).map(|c| format!("{c:?}"))),
        "PUBREL" | "PUBCOMP" => name(PubRelReasonCode::try_from(code).map(|c| format!("{c:?}"))),
        "DISCONNECT" => name(DisconnectReasonCode::try_from(code).map(|c| format!("{c:?}"))),
        "AUTH" => name(AuthReasonCode::try_from(code).map(|c| format!("{c:?}"))),
        _ => panic!("unknown packet {packet:?}"),
    }
}

/// The packets whose reason codes live in the enum `prefix` + `ReasonCode`.
pub fn packets_of(prefix: &str) -> &'static [&'static str] {
    match prefix {
        "Connect" => &["CONNACK"],
        "SubAck" => &["SUBACK"],
        "UnsubAck" => &["UNSUBACK"],
        "PubAck" => &["PUBACK", "PUBREC"],
        "PubRel" => &["PUBREL", "PUBCOMP"],
        "Disconnect" => &["DISCONNECT"],
        "Auth" => &["AUTH"],
        _ => &[],
    }
}

pub fn squash(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .flat_map(|c| c.to_lowercase())
        .collect()
}

/// Every `<Packet>ReasonCode::<Variant>` in the product code of handlers and core.
pub fn sent_reason_codes() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for dir in ["handlers/src", "core/src"] {
        for text in product_sources(&root().join(dir)) {
            for (at, _) in text.match_indices("ReasonCode::") {
                let before = &text[..at];
                let start = before
                    .rfind(|c: char| !c.is_ascii_alphanumeric())
                    .map_or(0, |i| i + 1);
                let after = &text[at + "ReasonCode::".len()..];
                let end = after
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(after.len());
                let (prefix, variant) = (&before[start..], &after[..end]);
                let is_variant = variant.chars().next().is_some_and(char::is_uppercase);
                if !packets_of(prefix).is_empty() && is_variant {
                    out.insert((prefix.to_owned(), variant.to_owned()));
                }
            }
        }
    }
    out
}

/// The reason codes of `DecodeError::reason_code` (the codec's one mapping).
pub fn decode_error_codes() -> Vec<u8> {
    let text = read("codec/src/mqtt/error/decode.rs");
    let start = text
        .find("pub fn reason_code")
        .expect("DecodeError::reason_code");
    let body = &text[start..];
    let body = &body[..body.find("\n    }\n").unwrap_or(body.len())];
    body.match_indices("=> 0x")
        .filter_map(|(i, _)| u8::from_str_radix(&body[i + 5..i + 7], 16).ok())
        .collect()
}

/// The text of every `.rs` file under `dir`, without test files and `#[cfg(test)]` modules.
fn product_sources(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !name.contains("test") {
            out.extend(product_sources(&path));
        } else if name.ends_with(".rs") && !name.contains("test") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let cut = text.find("#[cfg(test)]").unwrap_or(text.len());
            out.push(text[..cut].to_owned());
        }
    }
    out
}
