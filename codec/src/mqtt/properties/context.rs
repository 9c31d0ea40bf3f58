//! Which properties each packet (or the will) may carry, and which of them
//! may appear more than once there.

use super::super::EncodeError;
use super::wire::Entry;
use super::PropertyId;

/// Which properties a packet (or the will) may carry.
pub(crate) struct PropertyContext {
    pub(crate) name: &'static str,
    /// One bit per allowed identifier (`PropertyId::bit`).
    pub(super) allowed: u64,
    /// One bit per identifier that may repeat: User Property everywhere, and
    /// the Subscription Identifier in PUBLISH only.
    pub(super) repeatable: u64,
}

impl PropertyContext {
    /// A context allowing `ids` and User Property, where only User Property
    /// may repeat.
    const fn new(name: &'static str, ids: &[PropertyId]) -> Self {
        let mut allowed = PropertyId::UserProperty.bit();
        let mut i = 0;
        while i < ids.len() {
            allowed |= ids[i].bit();
            i += 1;
        }
        Self {
            name,
            allowed,
            repeatable: PropertyId::UserProperty.bit(),
        }
    }

    pub(super) fn allows(&self, id: PropertyId) -> bool {
        self.allowed & id.bit() != 0
    }

    pub(super) fn repeatable(&self, id: PropertyId) -> bool {
        self.repeatable & id.bit() != 0
    }

    /// Refuses, before anything is written, a property this context does
    /// not allow, or a value (or a repetition) the peer would reject.
    pub(super) fn check(&self, entry: &Entry<'_>) -> Result<(), EncodeError> {
        let id = entry.id;
        if !self.allows(id) {
            return Err(EncodeError::PropertyNotAllowed {
                id,
                context: self.name,
            });
        }
        if !entry.valid || (entry.repeated && !self.repeatable(id)) {
            return Err(EncodeError::InvalidPropertyValue { id });
        }
        Ok(())
    }
}

use PropertyId as P;

pub(crate) const CONNECT: PropertyContext = PropertyContext::new(
    "CONNECT",
    &[
        P::SessionExpiryInterval,
        P::ReceiveMaximum,
        P::MaximumPacketSize,
        P::TopicAliasMaximum,
        P::RequestResponseInformation,
        P::RequestProblemInformation,
        P::AuthenticationMethod,
        P::AuthenticationData,
    ],
);

pub(crate) const WILL: PropertyContext = PropertyContext::new(
    "will properties",
    &[
        P::WillDelayInterval,
        P::PayloadFormatIndicator,
        P::MessageExpiryInterval,
        P::ContentType,
        P::ResponseTopic,
        P::CorrelationData,
    ],
);

pub(crate) const CONNACK: PropertyContext = PropertyContext::new(
    "CONNACK",
    &[
        P::SessionExpiryInterval,
        P::ReceiveMaximum,
        P::MaximumQos,
        P::RetainAvailable,
        P::MaximumPacketSize,
        P::AssignedClientIdentifier,
        P::TopicAliasMaximum,
        P::ReasonString,
        P::WildcardSubscriptionAvailable,
        P::SubscriptionIdentifierAvailable,
        P::SharedSubscriptionAvailable,
        P::ServerKeepAlive,
        P::ResponseInformation,
        P::ServerReference,
        P::AuthenticationMethod,
        P::AuthenticationData,
    ],
);

/// PUBLISH, the one packet where the Subscription Identifier may repeat.
pub(crate) const PUBLISH: PropertyContext = PropertyContext {
    repeatable: P::UserProperty.bit() | P::SubscriptionIdentifier.bit(),
    ..PropertyContext::new(
        "PUBLISH",
        &[
            P::PayloadFormatIndicator,
            P::MessageExpiryInterval,
            P::TopicAlias,
            P::ResponseTopic,
            P::CorrelationData,
            P::SubscriptionIdentifier,
            P::ContentType,
        ],
    )
};

/// PUBACK, PUBREC, PUBREL and PUBCOMP.
pub(crate) const ACK: PropertyContext =
    PropertyContext::new("PUBACK/PUBREC/PUBREL/PUBCOMP", &[P::ReasonString]);

pub(crate) const SUBSCRIBE: PropertyContext =
    PropertyContext::new("SUBSCRIBE", &[P::SubscriptionIdentifier]);

pub(crate) const SUBACK: PropertyContext = PropertyContext::new("SUBACK", &[P::ReasonString]);

pub(crate) const UNSUBSCRIBE: PropertyContext = PropertyContext::new("UNSUBSCRIBE", &[]);

pub(crate) const UNSUBACK: PropertyContext = PropertyContext::new("UNSUBACK", &[P::ReasonString]);

pub(crate) const DISCONNECT: PropertyContext = PropertyContext::new(
    "DISCONNECT",
    &[
        P::SessionExpiryInterval,
        P::ReasonString,
        P::ServerReference,
    ],
);

pub(crate) const AUTH: PropertyContext = PropertyContext::new(
    "AUTH",
    &[
        P::AuthenticationMethod,
        P::AuthenticationData,
        P::ReasonString,
    ],
);
