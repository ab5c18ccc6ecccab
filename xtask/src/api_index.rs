//! The guide's index of every public item (`guide/src/api-index.md`), made
//! from rustdoc's JSON description of the crate (for wasm32, every feature
//! on): each item with its kind, the first sentence of its documentation and
//! the chapters that name it. `cargo xtask api-index` writes it; the test
//! command makes it again and fails when the file differs, so an item added,
//! renamed or removed shows in the guide in the same change.
//!
//! rustdoc's JSON output is unstable, so it comes from the pinned nightly the
//! threaded suite already uses, into a target directory of its own. Its
//! warnings (a broken link in the docs) fail the run.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;

use crate::shell;

const INDEX: &str = "api-index.md";

/// `cargo xtask api-index`: writes the index.
pub fn write() -> Result<(), String> {
    crate::threaded::install_toolchain()?;
    let text = make()?;
    let path = guide_dir().join(INDEX);
    std::fs::write(&path, text).map_err(|error| format!("{}: {error}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The index made again must be the one in the guide.
pub fn check() -> Result<(), String> {
    let made = make()?;
    let path = guide_dir().join(INDEX);
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    if made == kept {
        return Ok(());
    }
    let first_difference = made
        .lines()
        .zip(kept.lines().chain(std::iter::repeat("")))
        .find(|(made, kept)| made != kept)
        .map(|(made, kept)| format!("\n  now:   {made}\n  guide: {kept}"))
        .unwrap_or_default();
    Err(format!(
        "guide/src/{INDEX} does not list the crate's public items as they are: run \
         `cargo xtask api-index` and commit it{first_difference}"
    ))
}

/// rustdoc's JSON of the library, then the index's text.
fn make() -> Result<String, String> {
    let target = shell::root().join("target/api-index");
    let mut rustdoc = crate::threaded::nightly_cargo();
    rustdoc.env("CARGO_TARGET_DIR", &target).args([
        "rustdoc",
        "--quiet",
        "-p",
        "browser-websocket",
        "--lib",
        "--all-features",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        // A broken link in the docs fails here, not on docs.rs.
        "-D",
        "warnings",
        "-Z",
        "unstable-options",
        "--output-format",
        "json",
    ]);
    shell::run(&mut rustdoc)?;
    let json_path = target.join("wasm32-unknown-unknown/doc/browser_websocket.json");
    let json = std::fs::read_to_string(&json_path)
        .map_err(|error| format!("{}: {error}", json_path.display()))?;
    let krate: Value = serde_json::from_str(&json).map_err(|error| error.to_string())?;
    let items = public_items(&krate)?;
    Ok(render(&items, &chapters()?))
}

/// A public item: its path from the crate root, kind and summary.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Item {
    path: String,
    kind: &'static str,
    summary: String,
}

/// Every public item reachable from the crate root, each once, under the
/// shortest path users can name it by (where it is re-exported), with the
/// public methods of its inherent impls (a trait's: its methods).
fn public_items(krate: &Value) -> Result<Vec<Item>, String> {
    let index = krate
        .get("index")
        .and_then(Value::as_object)
        .ok_or("rustdoc JSON without an index")?;
    let root = id_of(krate.get("root")).ok_or("rustdoc JSON without a root")?;
    // Each item's id -> the shortest path found to it, its kind.
    let mut paths: BTreeMap<String, (String, &'static str)> = BTreeMap::new();
    let mut visited: BTreeSet<String> = BTreeSet::new();
    let mut to_visit = vec![(root, String::new())];
    while let Some((module, prefix)) = to_visit.pop() {
        if !visited.insert(format!("{module} {prefix}")) {
            continue;
        }
        let members = index
            .get(&module)
            .and_then(|item| item.pointer("/inner/module/items"))
            .and_then(Value::as_array);
        for member in members
            .into_iter()
            .flatten()
            .filter_map(|id| id_of(Some(id)))
        {
            let Some(item) = index.get(&member) else {
                continue;
            };
            if !is_public(item) || is_hidden(item) {
                continue;
            }
            // A re-export stands for its target, under the re-export's name.
            let (target_id, name) = match item.pointer("/inner/use") {
                Some(usage) => {
                    let Some(target_id) = id_of(usage.get("id")) else {
                        continue; // another crate's item
                    };
                    if usage.get("is_glob").and_then(Value::as_bool) == Some(true) {
                        to_visit.push((target_id, prefix.clone()));
                        continue;
                    }
                    let name = usage
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    (target_id, name.to_owned())
                }
                None => (member, name_of(item)),
            };
            let Some(kind) = index.get(&target_id).and_then(kind_of) else {
                continue;
            };
            let path = format!("{prefix}{name}");
            if kind == "module" {
                to_visit.push((target_id.clone(), format!("{path}::")));
            }
            let shorter = paths
                .get(&target_id)
                .is_none_or(|(known, _)| (path.len(), &path) < (known.len(), known));
            if shorter {
                paths.insert(target_id, (path, kind));
            }
        }
    }
    let mut items = Vec::new();
    for (id, (path, kind)) in &paths {
        let Some(item) = index.get(id) else {
            continue;
        };
        items.push(Item {
            path: path.clone(),
            kind,
            summary: summary(item),
        });
        for (member_name, member_kind, member) in members_of(index, item) {
            items.push(Item {
                path: format!("{path}::{member_name}"),
                kind: member_kind,
                summary: summary(member),
            });
        }
    }
    items.sort_by_cached_key(|item| (module_of(item), item.path.clone()));
    items.dedup();
    Ok(items)
}

/// The public methods of a type's inherent impls, and a trait's methods.
fn members_of<'a>(
    index: &'a serde_json::Map<String, Value>,
    item: &'a Value,
) -> Vec<(String, &'static str, &'a Value)> {
    let mut members = Vec::new();
    if let Some(methods) = item.pointer("/inner/trait/items").and_then(Value::as_array) {
        for method in methods.iter().filter_map(|id| index.get(&id_of(Some(id))?)) {
            if method.pointer("/inner/function").is_some() && !is_hidden(method) {
                members.push((name_of(method), "trait method", method));
            }
        }
        return members;
    }
    let impls = ["struct", "enum"]
        .iter()
        .find_map(|kind| item.pointer(&format!("/inner/{kind}/impls")))
        .and_then(Value::as_array);
    for implementation in impls
        .into_iter()
        .flatten()
        .filter_map(|id| index.get(&id_of(Some(id))?))
    {
        let Some(inner) = implementation.pointer("/inner/impl") else {
            continue;
        };
        // Inherent impls only: trait impls are listed with the trait.
        if !inner.get("trait").is_none_or(Value::is_null) {
            continue;
        }
        for method in inner
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|id| index.get(&id_of(Some(id))?))
        {
            if is_public(method) && !is_hidden(method) {
                let kind = if method.pointer("/inner/function").is_some() {
                    "method"
                } else {
                    "associated item"
                };
                members.push((name_of(method), kind, method));
            }
        }
    }
    members
}

/// An id as the index's keys spell it (ids are numbers in recent formats,
/// strings in older ones).
fn id_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(number) => Some(number.to_string()),
        Value::String(text) => Some(text.clone()),
        _ => None,
    }
}

fn name_of(item: &Value) -> String {
    item.get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn is_public(item: &Value) -> bool {
    item.get("visibility").and_then(Value::as_str) == Some("public")
}

/// `#[doc(hidden)]`, however the format spells attributes.
fn is_hidden(item: &Value) -> bool {
    item.get("attrs")
        .is_some_and(|attrs| attrs.to_string().contains("hidden"))
}

fn kind_of(item: &Value) -> Option<&'static str> {
    let inner = item.get("inner")?.as_object()?;
    let key = inner.keys().next()?;
    Some(match key.as_str() {
        "module" => "module",
        "struct" => "struct",
        "enum" => "enum",
        "trait" => "trait",
        "function" => "function",
        "type_alias" => "type alias",
        "constant" => "constant",
        "static" => "static",
        "macro" => "macro",
        _ => return None,
    })
}

/// The first sentence of an item's documentation, its links made plain text.
fn summary(item: &Value) -> String {
    let docs = item.get("docs").and_then(Value::as_str).unwrap_or_default();
    let paragraph: Vec<&str> = docs
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect();
    let paragraph = plain_links(&paragraph.join(" "));
    let sentence = match paragraph.find(". ") {
        Some(end) => &paragraph[..=end],
        None => paragraph.as_str(),
    };
    sentence.replace('|', "\\|")
}

/// `[text](target)` and `[text]` as `text`.
fn plain_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[open..]);
            return out;
        };
        out.push_str(&after[..close]);
        rest = &after[close + 1..];
        if let Some(target) = rest.strip_prefix('(') {
            if let Some(end) = target.find(')') {
                rest = &target[end + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Each chapter's file name, title and text, in the book's order.
fn chapters() -> Result<Vec<(String, String, String)>, String> {
    let summary_path = guide_dir().join("SUMMARY.md");
    let summary = std::fs::read_to_string(&summary_path)
        .map_err(|error| format!("{}: {error}", summary_path.display()))?;
    let mut chapters = Vec::new();
    for line in summary.lines() {
        let Some(link) = line.trim().strip_prefix("- [") else {
            continue;
        };
        let Some((title, file)) = link.split_once("](") else {
            continue;
        };
        let file = file.trim_end_matches(')');
        if file == INDEX {
            continue;
        }
        let path = guide_dir().join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        chapters.push((file.to_owned(), title.to_owned(), text));
    }
    Ok(chapters)
}

/// Whether a chapter names `path`: its last segment in code (`` `name` ``,
/// `` `name(`` , `::name`, `.name(`), and for a member, its owner too.
fn names(text: &str, path: &str) -> bool {
    let mut segments = path.rsplit("::");
    let name = segments.next().unwrap_or_default();
    let mentioned = [
        format!("`{name}`"),
        format!("`{name}("),
        format!("::{name}"),
        format!(".{name}("),
        format!("`{name}<"),
        format!("`{name}::"),
        format!(" {name}("),
    ]
    .iter()
    .any(|form| text.contains(form.as_str()));
    let owner_mentioned = segments.next().is_none_or(|owner| text.contains(owner));
    mentioned && owner_mentioned
}

fn render(items: &[Item], chapters: &[(String, String, String)]) -> String {
    let mut out = String::from(
        "# Index of public items\n\n\
         Every public item of the crate (built for wasm32 with every feature), with\n\
         the first sentence of its documentation and the chapters that name it.\n\
         [docs.rs](https://docs.rs/browser-websocket) has the whole documentation of\n\
         each. Written by `cargo xtask api-index` from rustdoc's description of the\n\
         crate; `cargo xtask test` fails when it no longer lists the items as they are.\n",
    );
    let mut section = None;
    for item in items {
        let module = module_of(item);
        if section.as_deref() != Some(module.as_str()) {
            let title = if module.is_empty() {
                "The crate root".to_owned()
            } else {
                format!("`{module}`")
            };
            out.push_str(&format!(
                "\n## {title}\n\n| item | kind | what it is | in the guide |\n|---|---|---|---|\n"
            ));
            section = Some(module);
        }
        let named_in: Vec<String> = chapters
            .iter()
            .filter(|(_, _, text)| names(text, &item.path))
            .map(|(file, title, _)| format!("[{title}]({file})"))
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            item.path,
            item.kind,
            item.summary,
            named_in.join(", ")
        ));
    }
    out
}

/// The module an item is listed under: its path's module part (types'
/// members go with their type's module).
fn module_of(item: &Item) -> String {
    let segments: Vec<&str> = item.path.split("::").collect();
    let owner_len = match item.kind {
        "method" | "trait method" | "associated item" => segments.len().saturating_sub(2),
        "module" => segments.len(),
        _ => segments.len().saturating_sub(1),
    };
    segments[..owner_len].join("::")
}

fn guide_dir() -> PathBuf {
    shell::root().join("guide/src")
}

#[cfg(test)]
mod tests {
    use super::{names, plain_links};

    #[test]
    fn links_become_their_text() {
        assert_eq!(
            plain_links(
                "See [`Handle::closed`] and [MDN](https://x.org/a) or [`Error`](crate::Error)."
            ),
            "See `Handle::closed` and MDN or `Error`."
        );
        assert_eq!(plain_links("a [b"), "a [b");
    }

    #[test]
    fn a_chapter_names_an_item_in_code_and_a_member_with_its_owner() {
        let chapter = "Use `WebSocket::connect(url)` or `socket.send_text(\"hi\")` on a `Handle`.";
        assert!(names(chapter, "WebSocket"));
        assert!(names(chapter, "WebSocket::connect"));
        assert!(names(chapter, "Handle::send_text"));
        assert!(!names(chapter, "Sender::send_text"));
        assert!(!names(chapter, "Message"));
    }
}
