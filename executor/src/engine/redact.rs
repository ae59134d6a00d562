//! Keeping secrets out of the store, the log, error messages and `--json` output.
//!
//! Redaction is by value: every secret's text (the `secrets` of the run's context and every string inside its
//! credentials) is replaced by `***` wherever it appears, whole or inside a longer string ("Bearer s3cr3t" is
//! stored as "Bearer ***"). Secrets shorter than [`MIN_SECRET_LEN`] characters are not searched for: replacing
//! every "a" would garble the record without protecting anything.

use serde_json::Value as Json;
use std::borrow::Cow;

pub const MIN_SECRET_LEN: usize = 4;
const MASK: &str = "***";

#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    /// Longest first, so a secret that contains another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub(crate) fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.chars().count() >= MIN_SECRET_LEN).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    pub(crate) fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.secrets.iter().any(|secret| text.contains(secret.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut masked = text.to_owned();
        for secret in &self.secrets {
            if masked.contains(secret.as_str()) {
                masked = masked.replace(secret.as_str(), MASK);
            }
        }
        Cow::Owned(masked)
    }

    pub(crate) fn json(&self, mut value: Json) -> Json {
        if !self.is_empty() {
            self.json_in_place(&mut value);
        }
        value
    }

    fn json_in_place(&self, value: &mut Json) {
        match value {
            Json::String(text) => {
                if let Cow::Owned(masked) = self.text(text) {
                    *text = masked;
                }
            }
            Json::Array(items) => items.iter_mut().for_each(|item| self.json_in_place(item)),
            Json::Object(fields) => fields.values_mut().for_each(|field| self.json_in_place(field)),
            Json::Null | Json::Bool(_) | Json::Number(_) => {}
        }
    }
}

/// Every string inside a JSON document (a credential's data), for [`Redactor::new`].
pub(crate) fn strings_in(value: &Json, out: &mut Vec<String>) {
    match value {
        Json::String(text) => out.push(text.clone()),
        Json::Array(items) => items.iter().for_each(|item| strings_in(item, out)),
        Json::Object(fields) => fields.values().for_each(|field| strings_in(field, out)),
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_wherever_they_appear_in_a_document() {
        let redactor = Redactor::new(["s3cr3t-token".to_string(), "abc".to_string()]);
        let stored = redactor
            .json(json!({"headers": {"auth": "Bearer s3cr3t-token"}, "list": ["s3cr3t-token", 1], "abc": "abc"}));
        assert_eq!(stored, json!({"headers": {"auth": "Bearer ***"}, "list": ["***", 1], "abc": "abc"}));
        assert_eq!(redactor.text("failed with s3cr3t-token in the URL"), "failed with *** in the URL");
    }

    #[test]
    fn a_secret_containing_another_is_masked_whole() {
        let redactor = Redactor::new(["pass".to_string(), "password123".to_string()]);
        assert_eq!(redactor.text("x=password123 y=pass"), "x=*** y=***");
    }
}
