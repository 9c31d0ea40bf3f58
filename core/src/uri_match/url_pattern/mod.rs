//! WHATWG URL Pattern (stub while the parser lands).

use super::UriMatchError;

/// A parsed URL pattern.
#[derive(Clone, Debug)]
pub struct UrlPattern {
    text: String,
}

impl UrlPattern {
    /// Parses `input` as `new URLPattern(input, base)` does.
    pub fn parse(input: &str, _base: Option<&str>) -> Result<Self, UriMatchError> {
        Err(UriMatchError::new(
            input,
            "URL patterns are not supported yet",
        ))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `topic` matches.
    pub fn matches(&self, _topic: &str) -> bool {
        false
    }
}
