//! Keeping secrets out of the store, the log, error messages and `--json` output.
//!
//! Redaction is by value: every secret's text (the `secrets` of the run's context and every string inside its
//! credentials) is replaced by `***` wherever it appears, whole or inside a longer string ("Bearer s3cr3t" is
//! stored as "Bearer ***"). Secrets shorter than [`MIN_SECRET_LEN`] characters are not searched for: replacing
//! every "a" would garble the record without protecting anything.
//!
//! A secret also travels in other forms, and a server may echo any of them back into an output or an error. So
//! these forms are masked too ([`wire_forms`]):
//! - percent-encoding, as a query string or a form body writes it (`a&b` as `a%26b`; space as `+` or `%20`), in
//!   upper- and lower-case hex, and as a URL keeps it (only spaces, quotes and `<>#` encoded);
//! - JSON escaping (`"` as `\"`, `\` as `\\`, control characters, `/` as `\/`, non-ASCII as `\u00e9`), as a JSON
//!   request body carries it;
//! - for a credential holding `username` and `password` (a `basic` credential, SMTP), base64 of `username:password`
//!   (the `Authorization: Basic` value) and of `\0username\0password` (SMTP `AUTH PLAIN`), standard and URL-safe.
//!
//! Known limit: a value computed from a secret (`upper(secret)`, a slice, a hash, base64 of the secret inside a
//! longer text) is a different text and is not masked. Keep secrets out of expressions other than plain
//! interpolation.

use base64::Engine as _;
use connectors::Credential;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::HashMap;

pub const MIN_SECRET_LEN: usize = 4;
const MASK: &str = "***";

#[derive(Debug, Clone, Default)]
pub(crate) struct Redactor {
    /// Every form of every secret, longest first, so a text that contains another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// Masks each secret in every form it takes on the wire (tests; a run uses [`Redactor::for_run`]).
    #[cfg(test)]
    pub(crate) fn new(secrets: impl IntoIterator<Item = String>) -> Redactor {
        Redactor::of_forms(secrets.into_iter().flat_map(|secret| wire_forms(&secret)))
    }

    /// The redactor of a run: its `secrets.NAME` values, every string of its credentials, and the base64 forms of
    /// each credential's username and password pair.
    pub(crate) fn for_run(secrets: &HashMap<String, String>, credentials: &HashMap<String, Credential>) -> Redactor {
        let mut plain: Vec<String> = secrets.values().cloned().collect();
        let mut pairs = Vec::new();
        for credential in credentials.values() {
            strings_in(&credential.data, &mut plain);
            let field = |name: &str| credential.data.get(name).and_then(Json::as_str);
            if let (Some(username), Some(password)) = (field("username"), field("password"))
                && password.chars().count() >= MIN_SECRET_LEN
            {
                pairs.extend(login_forms(username, password));
            }
        }
        Redactor::of_forms(plain.iter().flat_map(|secret| wire_forms(secret)).chain(pairs))
    }

    fn of_forms(forms: impl IntoIterator<Item = String>) -> Redactor {
        let mut secrets: Vec<String> = forms.into_iter().collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
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

/// Every string inside a JSON document (a credential's data).
fn strings_in(value: &Json, out: &mut Vec<String>) {
    match value {
        Json::String(text) => out.push(text.clone()),
        Json::Array(items) => items.iter().for_each(|item| strings_in(item, out)),
        Json::Object(fields) => fields.values().for_each(|field| strings_in(field, out)),
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
}

/// A secret and the texts it becomes when percent-encoded or JSON-escaped (see the module docs); nothing for a
/// secret shorter than [`MIN_SECRET_LEN`].
pub(crate) fn wire_forms(secret: &str) -> Vec<String> {
    if secret.chars().count() < MIN_SECRET_LEN {
        return Vec::new();
    }
    let json = json_escaped(secret);
    let mut forms = vec![
        secret.to_string(),
        percent_encoded(secret, Encoding::Form, Hex::Upper),
        percent_encoded(secret, Encoding::Form, Hex::Lower),
        percent_encoded(secret, Encoding::Component, Hex::Upper),
        percent_encoded(secret, Encoding::Component, Hex::Lower),
        percent_encoded(secret, Encoding::Url, Hex::Upper),
        json_ascii_escaped(&json),
        json.replace('/', "\\/"),
        json,
    ];
    forms.sort();
    forms.dedup();
    forms
}

/// base64 of `username:password` and of `\0username\0password`, without padding (so the padded text, which
/// contains it, is masked too), in the standard and the URL-safe alphabet.
fn login_forms(username: &str, password: &str) -> Vec<String> {
    let mut forms = Vec::new();
    for login in [format!("{username}:{password}"), format!("\0{username}\0{password}")] {
        forms.push(base64::engine::general_purpose::STANDARD_NO_PAD.encode(&login));
        forms.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&login));
    }
    forms.sort();
    forms.dedup();
    forms
}

#[derive(Clone, Copy)]
enum Encoding {
    /// `application/x-www-form-urlencoded`, as query strings and form bodies are written: letters, digits and
    /// `*-._` stay, space is `+`, every other byte `%XX`.
    Form,
    /// RFC 3986 unreserved characters (letters, digits, `-._~`) stay, every other byte `%XX`.
    Component,
    /// As a URL parser keeps a secret interpolated into a URL's query: only controls, space, `"#<>'` and
    /// non-ASCII bytes are encoded.
    Url,
}

#[derive(Clone, Copy)]
enum Hex {
    Upper,
    Lower,
}

fn percent_encoded(text: &str, encoding: Encoding, hex: Hex) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for &byte in text.as_bytes() {
        let keep = match encoding {
            Encoding::Form => byte.is_ascii_alphanumeric() || b"*-._".contains(&byte),
            Encoding::Component => byte.is_ascii_alphanumeric() || b"-._~".contains(&byte),
            Encoding::Url => byte.is_ascii_graphic() && !b"\"#<>'".contains(&byte),
        };
        match (encoding, byte) {
            _ if keep => out.push(char::from(byte)),
            (Encoding::Form, b' ') => out.push('+'),
            (_, byte) => match hex {
                Hex::Upper => out.push_str(&format!("%{byte:02X}")),
                Hex::Lower => out.push_str(&format!("%{byte:02x}")),
            },
        }
    }
    out
}

/// The secret as it appears inside a JSON string: `"` as `\"`, `\` as `\\`, controls escaped.
fn json_escaped(text: &str) -> String {
    let quoted = Json::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

/// JSON escaping that also writes every non-ASCII character as `\uXXXX` (lower-case hex, UTF-16), as Python's
/// `json.dumps` does by default.
fn json_ascii_escaped(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
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

    #[test]
    fn a_percent_encoded_secret_is_masked_in_a_query_a_form_body_and_a_url() {
        let redactor = Redactor::new(["k3y&v=a/b c~".to_string()]);
        // A query string or a form body (reqwest, serde_urlencoded): space as `+`.
        assert_eq!(redactor.text("GET /x?t=k3y%26v%3Da%2Fb+c%7E&n=1"), "GET /x?t=***&n=1");
        assert_eq!(redactor.text("body: t=k3y%26v%3da%2fb+c%7e"), "body: t=***");
        // RFC 3986 encoding (JavaScript's encodeURIComponent): space as `%20`, `~` kept.
        assert_eq!(redactor.text("/x?t=k3y%26v%3Da%2Fb%20c~"), "/x?t=***");
        // Interpolated into a URL, which encodes only the space.
        assert_eq!(redactor.text("http://h/x?t=k3y&v=a/b%20c~"), "http://h/x?t=***");
    }

    #[test]
    fn a_json_escaped_secret_is_masked_in_an_echoed_json_body() {
        let secret = "pa\"ss\\wo/rd\té";
        let redactor = Redactor::new([secret.to_string()]);
        let body = json!({"password": secret}).to_string();
        assert_eq!(redactor.text(&body), r#"{"password":"***"}"#);
        assert_eq!(redactor.text(r#"{"password":"pa\"ss\\wo\/rd\té"}"#), r#"{"password":"***"}"#);
        assert_eq!(redactor.text(r#"{"password": "pa\"ss\\wo/rd\t\u00e9"}"#), r#"{"password": "***"}"#);
    }

    #[test]
    fn the_base64_of_a_basic_credential_s_pair_is_masked() {
        let credential = Credential {
            name: "web".into(),
            provider: "basic".into(),
            data: json!({"username": "ann", "password": "open sesame?"}),
        };
        let redactor = Redactor::for_run(&HashMap::new(), &HashMap::from([("web".to_string(), credential)]));
        // base64("ann:open sesame?") = YW5uOm9wZW4gc2VzYW1lPw== ; URL-safe: YW5uOm9wZW4gc2VzYW1lPw
        assert_eq!(redactor.text("Authorization: Basic YW5uOm9wZW4gc2VzYW1lPw=="), "Authorization: Basic ***==");
        // SMTP AUTH PLAIN: base64("\0ann\0open sesame?").
        assert_eq!(redactor.text("AUTH PLAIN AGFubgBvcGVuIHNlc2FtZT8="), "AUTH PLAIN ***=");
        assert_eq!(redactor.text("password=open+sesame%3F"), "password=***");
    }

    /// The documented limit: a value computed from a secret is another text.
    #[test]
    fn values_derived_from_a_secret_are_out_of_reach() {
        let redactor = Redactor::new(["s3cr3t-token".to_string()]);
        assert_eq!(redactor.text("S3CR3T-TOKEN"), "S3CR3T-TOKEN");
    }
}
