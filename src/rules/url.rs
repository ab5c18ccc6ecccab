//! The WebSocket URL and subprotocol rules of the WHATWG standard, as pure Rust.
//!
//! Parsing and resolving a URL against a base is left to the browser's own URL
//! parser (the one the standard names, and free in wasm size); what the
//! `WebSocket` constructor then checks is done here, before the browser is asked.

use crate::rules::error::{Error, Result};

/// Applies the constructor's scheme and fragment rules to a parsed, absolute URL
/// (as serialized by a WHATWG URL parser): `http:` becomes `ws:`, `https:` becomes
/// `wss:`, other schemes and any fragment are errors. `original` is the URL as the
/// caller wrote it, for the error.
pub(crate) fn websocket_url_from_parsed(parsed: &str, original: &str) -> Result<String> {
    // Byte searches throughout, not `split_once` or `contains`: the same result
    // in less wasm (no generic string searcher).
    let Some((scheme, rest)) = split_at_byte(parsed, b':') else {
        return Err(Error::InvalidUrl {
            url: original.to_owned(),
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
            url: original.to_owned(),
            scheme: scheme.to_owned(),
        });
    };
    // In a serialized URL, `#` is escaped everywhere but at the start of the
    // fragment, so any `#` (even a trailing one: an empty fragment) is a fragment.
    if has_byte(rest, b'#') {
        return Err(Error::UrlHasFragment {
            url: original.to_owned(),
        });
    }
    // The standard forbids spaces and other forbidden code points in a host,
    // and no valid host serializes with a `%`; Chromium's parser accepts
    // "foo bar.com" as "foo%20bar.com" where the others fail. Fail here, alike.
    if has_byte(host_of(rest), b'%') {
        return Err(Error::InvalidUrl {
            url: original.to_owned(),
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
