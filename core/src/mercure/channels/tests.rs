use super::*;
use crate::audience::registry::Registered;
use crate::claims::mercure::Dialect;
use crate::topic::TopicName;

fn v0(s: &str) -> UriSelector {
    UriSelector::parse_v0(s).expect(s)
}

fn grants(subscribe: &[&str]) -> MercureGrants {
    MercureGrants {
        dialect: Dialect::V0,
        kid: "k".into(),
        exp: None,
        sub: None,
        publish: Vec::new(),
        subscribe: subscribe.iter().map(|s| v0(s)).collect(),
        payloads: Vec::new(),
    }
}

fn names(channels: &[(Feed, String)]) -> Vec<&str> {
    channels.iter().map(|(_, c)| c.as_str()).collect()
}

#[test]
fn selector_names_parse_back_and_exact_selectors_have_none() {
    for s in ["*", "https://x/{id}", "https://x/{+rest}"] {
        let name = selector_name(&v0(s)).expect("a name");
        let back = parse_selector_name(&name, None).expect("parses");
        assert_eq!(back.as_str(), s);
    }
    let pattern = UriSelector::parse_v1(MatchKind::UrlPattern, "https://x/:id", None).expect("p");
    let name = selector_name(&pattern).expect("a name");
    assert_eq!(name, "p:https://x/:id");
    assert!(parse_selector_name(&name, None)
        .expect("parses")
        .matches("https://x/7"));
    assert_eq!(selector_name(&v0("https://x/1")), None);
    for bad in ["", "x", "t:https://x/1", "q:abc"] {
        assert!(parse_selector_name(bad, None).is_none(), "{bad}");
    }
}

#[test]
fn a_subscription_listens_on_live_mercure_and_the_private_channels_its_grants_allow() {
    let selectors = [v0("https://x/1"), v0("https://x/{id}"), v0("https://y/2")];
    let anonymous = subscription(&selectors, None);
    assert_eq!(
        names(&anonymous),
        ["https://x/1", "m#t:https://x/%7Bid%7D", "https://y/2"]
    );
    let granted = subscription(&selectors, Some(&grants(&["https://x/{id}"])));
    assert_eq!(
        names(&granted),
        [
            "https://x/1",
            "mp#https://x/1",
            "m#t:https://x/%7Bid%7D",
            "mp#t:https://x/%7Bid%7D",
            "https://y/2",
        ]
    );
    // `*` with narrower grants listens on each grant's private channel.
    let any = subscription(
        &[UriSelector::Any],
        Some(&grants(&["https://x/1", "https://z/{n}"])),
    );
    assert_eq!(
        names(&any),
        ["m#*", "mp#https://x/1", "mp#t:https://z/%7Bn%7D"]
    );
    // A grant of `*` covers every selector.
    let all = subscription(&[v0("https://q/{n}")], Some(&grants(&["*"])));
    assert_eq!(
        names(&all),
        ["m#t:https://q/%7Bn%7D", "mp#t:https://q/%7Bn%7D"]
    );
}

#[test]
fn an_update_goes_to_the_registered_selectors_that_match_one_of_its_topics() {
    let registered = |feed: Feed, name: &str| Registered {
        feed,
        channel: feed.channel(name),
        filter: None,
        mercure: Some(name.to_owned()),
    };
    let listening = Listening::Only(vec![
        registered(Feed::Mercure, "t:https://x/{id}"),
        registered(Feed::Mercure, "t:https://y/{id}"),
        registered(Feed::MercurePrivate, "*"),
        registered(Feed::Mercure, "garbage"),
    ]);
    let topics = [
        TopicName::parse("https://x/1").expect("topic"),
        TopicName::parse("https://z/alt").expect("topic"),
    ];
    let public = Update {
        topics: &topics,
        data: "d",
        id: "1",
        kind: None,
        retry: None,
        private: false,
    };
    assert_eq!(
        update(&public, &listening, None),
        ["m#t:https://x/%7Bid%7D"]
    );
    let private = Update {
        private: true,
        ..public
    };
    assert_eq!(
        update(&private, &listening, None),
        ["mp#https://x/1", "mp#https://z/alt", "mp#*"]
    );
    assert!(update(&public, &Listening::Everything, None).is_empty());
}
