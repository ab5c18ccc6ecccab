//! The WebSocket URL and subprotocol rules of the WHATWG standard, as pure Rust.
//!
//! Parsing and resolving a URL against a base is left to the browser's own URL
//! parser (the one the standard names, and free in wasm size); what the
//! `WebSocket` constructor then checks is done here, before the browser is asked.

use std::fmt;

use crate::rules::error::{Error, Result};

/// A URL as the app gave it, kept in an error: shown (by `Display` and `Debug`)
/// with its secrets hidden, since a WebSocket URL often carries a token
/// (`wss://host/live?token=...`) and errors end up in logs and bug reports.
/// The scheme, host, port and path show; the user info, each query value and
/// the fragment become `***`. The URL as given is there for the app that asks
/// for it by name: [`as_given`](Self::as_given).
///
/// # Example
///
/// ```
/// use browser_websocket::RedactedUrl;
///
/// // As `Error::InvalidScheme { url, .. }` carries it:
/// let url = RedactedUrl::from("ftp://me:pw@example.com/live?token=s3cret&room=1");
/// assert_eq!(url.to_string(), "ftp://***@example.com/live?token=***&room=***");
/// assert!(!format!("{url:?}").contains("s3cret"));
/// assert_eq!(url.as_given(), "ftp://me:pw@example.com/live?token=s3cret&room=1");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedUrl(String);

impl RedactedUrl {
    /// The URL exactly as the app gave it, secrets and all.
    pub fn as_given(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RedactedUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl From<String> for RedactedUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl PartialEq<str> for RedactedUrl {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for RedactedUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for RedactedUrl {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&redact(&self.0), f)
    }
}

/// What may show of a URL: `scheme://***@host:port/path?key=***#***`. Works
/// on any text, parsable or not: an invalid URL's error carries it too.
fn redact(url: &str) -> String {
    let (before_fragment, fragment) = match split_at_byte(url, b'#') {
        Some((before, after)) => (before, Some(after)),
        None => (url, None),
    };
    let (before_query, query) = match split_at_byte(before_fragment, b'?') {
        Some((before, after)) => (before, Some(after)),
        None => (before_fragment, None),
    };
    let mut shown = String::with_capacity(url.len());
    shown.push_str(&without_user_info(before_query));
    if let Some(query) = query {
        shown.push('?');
        for (index, pair) in query.split('&').enumerate() {
            if index > 0 {
                shown.push('&');
            }
            match split_at_byte(pair, b'=') {
                Some((key, _)) => {
                    shown.push_str(key);
                    shown.push_str("=***");
                }
                None if pair.is_empty() => {}
                None => shown.push_str("***"),
            }
        }
    }
    if let Some(fragment) = fragment {
        shown.push('#');
        if !fragment.is_empty() {
            shown.push_str("***");
        }
    }
    shown
}

/// `scheme://user:pass@host/path` as `scheme://***@host/path`.
fn without_user_info(before_query: &str) -> String {
    let authority_start = before_query.find("//").map_or(0, |at| at + 2);
    let (head, rest) = before_query.split_at(authority_start);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{head}***{}", &rest[at..]),
        None => before_query.to_owned(),
    }
}

/// Applies the constructor's scheme and fragment rules to a parsed, absolute URL
/// (as serialized by a WHATWG URL parser): `http:` becomes `ws:`, `https:` becomes
/// `wss:`, other schemes and any fragment are errors. `original` is the URL as the
/// caller wrote it, for the error.
pub(crate) fn websocket_url_from_parsed(parsed: &str, original: &str) -> Result<String> {
    // Byte searches throughout, not `split_once` or `contains`: the same result
    // in less wasm (no generic string searcher).
    let Some((scheme, rest)) = split_at_byte(parsed, b':') else {
        return Err(Error::InvalidUrl {
            url: original.into(),
            reason: "no scheme".to_owned(),
        });
    };
    let is = |name: &str| scheme.eq_ignore_ascii_case(name);
    let mapped = if is("ws") || is("http") {
        "ws"
    } else if is("wss") || is("https") {
        "wss"
    } else {
        return Err(Error::InvalidScheme {
            url: original.into(),
            scheme: scheme.to_owned(),
        });
    };
    // In a serialized URL, `#` is escaped everywhere but at the start of the
    // fragment, so any `#` (even a trailing one: an empty fragment) is a fragment.
    if has_byte(rest, b'#') {
        return Err(Error::UrlHasFragment {
            url: original.into(),
        });
    }
    // The standard forbids spaces and other forbidden code points in a host,
    // and no valid host serializes with a `%`; Chromium's parser accepts
    // "foo bar.com" as "foo%20bar.com" where the others fail. Fail here, alike.
    if has_byte(host_of(rest), b'%') {
        return Err(Error::InvalidUrl {
            url: original.into(),
            reason: "the host has a character a host may not have".to_owned(),
        });
    }
    let mut url = String::with_capacity(mapped.len() + 1 + rest.len());
    url.push_str(mapped);
    url.push(':');
    url.push_str(rest);
    Ok(url)
}

/// `text` before and after the first `byte` (ASCII), if it has one.
fn split_at_byte(text: &str, byte: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == byte)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

fn has_byte(text: &str, byte: u8) -> bool {
    text.bytes().any(|b| b == byte)
}

/// The host (with its port) of what follows the scheme of a serialized
/// special URL: `//userinfo@host:port/path?query`.
fn host_of(after_scheme: &str) -> &str {
    let authority = after_scheme.strip_prefix("//").unwrap_or(after_scheme);
    let end = authority
        .bytes()
        .position(|byte| byte == b'/' || byte == b'?')
        .unwrap_or(authority.len());
    // (`get`: the positions are of ASCII bytes, so always char boundaries.)
    let authority = authority.get(..end).unwrap_or(authority);
    match authority.bytes().rposition(|byte| byte == b'@') {
        Some(at) => authority.get(at + 1..).unwrap_or(authority),
        None => authority,
    }
}

/// Checks the subprotocols offered: each an HTTP token (RFC 7230), none twice.
pub(crate) fn check_protocols<S: AsRef<str>>(protocols: &[S]) -> Result<()> {
    for (index, protocol) in protocols.iter().enumerate() {
        let protocol = protocol.as_ref();
        if !is_token(protocol) {
            return Err(Error::InvalidProtocol {
                protocol: protocol.to_owned(),
            });
        }
        if protocols[..index]
            .iter()
            .any(|seen| seen.as_ref() == protocol)
        {
            return Err(Error::DuplicateProtocol {
                protocol: protocol.to_owned(),
            });
        }
    }
    Ok(())
}

/// `token = 1*tchar` from RFC 7230 §3.2.6.
fn is_token(candidate: &str) -> bool {
    !candidate.is_empty() && candidate.bytes().all(is_tchar)
}

fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn map(url: &str) -> Result<String> {
        websocket_url_from_parsed(url, url)
    }

    #[test]
    fn http_schemes_map_to_websocket_schemes() {
        assert_eq!(
            map("http://example.com/chat").as_deref(),
            Ok("ws://example.com/chat")
        );
        assert_eq!(
            map("https://example.com:8443/").as_deref(),
            Ok("wss://example.com:8443/")
        );
        assert_eq!(
            map("ws://127.0.0.1:9001/echo?x=1").as_deref(),
            Ok("ws://127.0.0.1:9001/echo?x=1")
        );
        assert_eq!(
            map("wss://example.com/").as_deref(),
            Ok("wss://example.com/")
        );
    }

    #[test]
    fn other_schemes_are_rejected_with_the_scheme() {
        assert_eq!(
            map("ftp://example.com/"),
            Err(Error::InvalidScheme {
                url: "ftp://example.com/".into(),
                scheme: "ftp".into()
            })
        );
        assert!(matches!(
            map("file:///tmp/x"),
            Err(Error::InvalidScheme { .. })
        ));
        assert!(matches!(
            map("data:text/plain,hi"),
            Err(Error::InvalidScheme { .. })
        ));
    }

    #[test]
    fn a_percent_in_the_host_is_an_invalid_url() {
        let error = websocket_url_from_parsed("ws://foo%20bar.com/", "ws://foo bar.com/");
        assert!(matches!(error, Err(Error::InvalidUrl { .. })), "{error:?}");
        // In the path, query or userinfo it is fine.
        for fine in [
            "ws://example.com/a%20b?c=%20",
            "wss://us%20er:pa%20ss@example.com:443/",
            "ws://[::1]:9/x%25",
        ] {
            assert_eq!(websocket_url_from_parsed(fine, fine).as_deref(), Ok(fine));
        }
    }

    #[test]
    fn any_fragment_is_rejected_even_empty() {
        for url in [
            "ws://example.com/#a",
            "ws://example.com/#",
            "http://example.com/?q#",
        ] {
            assert_eq!(
                map(url),
                Err(Error::UrlHasFragment { url: url.into() }),
                "{url}"
            );
        }
    }

    #[test]
    fn errors_show_urls_without_their_secrets() {
        for (given, shown) in [
            ("wss://host/live?token=abc", "wss://host/live?token=***"),
            (
                "ws://u:p@host:81/a?x=1&y=&z",
                "ws://***@host:81/a?x=***&y=***&***",
            ),
            ("ws://host/path#frag", "ws://host/path#***"),
            ("ws://host/path#", "ws://host/path#"),
            ("ws://host/a@b", "ws://host/a@b"),
            ("ws://host/?", "ws://host/?"),
            ("not a url at all", "not a url at all"),
            ("me@host", "***@host"),
            ("//tok@host/p?k=v", "//***@host/p?k=***"),
            ("ws://ü:ß@hôst/é?ключ=значение", "ws://***@hôst/é?ключ=***"),
        ] {
            let url = RedactedUrl::from(given);
            assert_eq!(url.to_string(), shown, "{given}");
            assert_eq!(format!("{url:?}"), format!("{shown:?}"));
            assert_eq!(url.as_given(), given);
        }
        let error = map("ftp://user:pw@host/?token=s3cret#also").unwrap_err();
        assert!(!format!("{error} {error:?}").contains("s3cret"));
        assert!(!format!("{error} {error:?}").contains("pw"));
    }

    #[test]
    fn protocols_must_be_distinct_tokens() {
        assert_eq!(check_protocols(&["chat.v1", "chat.v2"]), Ok(()));
        assert_eq!(check_protocols::<&str>(&[]), Ok(()));
        for bad in ["", "a b", "a,b", "chât", "a/b", "{x}", "a\"b"] {
            assert_eq!(
                check_protocols(&[bad]),
                Err(Error::InvalidProtocol {
                    protocol: bad.into()
                }),
                "{bad:?}"
            );
        }
        assert_eq!(
            check_protocols(&["a", "b", "a"]),
            Err(Error::DuplicateProtocol {
                protocol: "a".into()
            })
        );
        // Protocol names compare case-sensitively, as the standard says.
        assert_eq!(check_protocols(&["a", "A"]), Ok(()));
    }

    proptest! {
        #[test]
        fn redacting_never_shows_a_query_value_or_user_info(
            user in "[a-z]{1,8}", secret in "[A-Z0-9]{6,12}", key in "[a-z]{1,6}", path in "(/[a-z]{0,5}){0,3}",
        ) {
            let given = format!("wss://{user}:{secret}@host{path}?{key}={secret}&next={secret}#{secret}");
            let shown = RedactedUrl::from(given.as_str()).to_string();
            prop_assert!(!shown.contains(&secret), "{}", shown);
            let expected = format!("wss://***@host{path}?{key}=***&next=***#***");
            prop_assert_eq!(shown, expected);
        }

        #[test]
        fn mapping_keeps_everything_after_the_scheme(
            scheme in prop::sample::select(vec!["ws", "wss", "http", "https"]),
            rest in "//[a-z0-9.]{1,20}(:[0-9]{1,5})?/[a-zA-Z0-9/?=&%._-]{0,40}",
        ) {
            let url = format!("{scheme}:{rest}");
            let mapped = map(&url).unwrap();
            let expected = if matches!(scheme, "wss" | "https") { "wss" } else { "ws" };
            prop_assert_eq!(mapped, format!("{expected}:{rest}"));
        }

        #[test]
        fn tokens_are_accepted_once(tokens in prop::collection::hash_set("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}", 0..8)) {
            let tokens: Vec<String> = tokens.into_iter().collect();
            prop_assert_eq!(check_protocols(&tokens), Ok(()));
            if let Some(first) = tokens.first() {
                let mut doubled = tokens.clone();
                doubled.push(first.clone());
                prop_assert_eq!(check_protocols(&doubled), Err(Error::DuplicateProtocol { protocol: first.clone() }));
            }
        }

        #[test]
        fn any_separator_makes_a_protocol_invalid(prefix in "[a-z]{0,5}", sep in "[ ,;:/\\\\\"(){}\\[\\]<>=?@\t]", suffix in "[a-z]{0,5}") {
            let protocol = format!("{prefix}{sep}{suffix}");
            prop_assert_eq!(check_protocols(std::slice::from_ref(&protocol)), Err(Error::InvalidProtocol { protocol }));
        }
    }
}
