//! Checks the relative links of the README and the guide: each names a file
//! that exists and, with `#anchor`, a heading that file has (the anchors
//! GitHub and mdBook make: lower case, spaces as `-`, other punctuation gone).

use std::path::{Path, PathBuf};

use crate::shell;

/// Fails with every broken relative link of `README.md` and `guide/src/*.md`.
pub fn check() -> Result<(), String> {
    let root = shell::root();
    let mut pages = vec![root.join("README.md")];
    let guide = root.join("guide/src");
    let entries =
        std::fs::read_dir(&guide).map_err(|error| format!("{}: {error}", guide.display()))?;
    for entry in entries.flatten() {
        if entry.path().extension().is_some_and(|ext| ext == "md") {
            pages.push(entry.path());
        }
    }
    pages.sort();
    let mut broken = Vec::new();
    let mut count = 0;
    for page in &pages {
        let text = read(page)?;
        for target in relative_links(&text) {
            count += 1;
            if let Err(problem) = resolve(page, &target) {
                let shown = page.strip_prefix(&root).unwrap_or(page);
                broken.push(format!("{}: ({target}) {problem}", shown.display()));
            }
        }
    }
    if broken.is_empty() {
        println!("{count} relative links in {} pages: all found", pages.len());
        Ok(())
    } else {
        Err(format!("broken links:\n  {}", broken.join("\n  ")))
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))
}

/// Whether `target`, linked from `page`, names an existing file (and heading).
fn resolve(page: &Path, target: &str) -> Result<(), String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let file: PathBuf = if path.is_empty() {
        page.to_path_buf()
    } else {
        page.parent().unwrap_or(page).join(path)
    };
    if !file.exists() {
        return Err("no such file".to_owned());
    }
    match anchor {
        Some(anchor) if file.extension().is_some_and(|ext| ext == "md") => {
            let headings = headings(&read(&file)?);
            if headings.iter().any(|heading| slug(heading) == anchor) {
                Ok(())
            } else {
                Err(format!("no heading #{anchor}"))
            }
        }
        _ => Ok(()),
    }
}

/// The targets of `[text](target)` links outside code blocks that are not
/// URLs with a scheme.
fn relative_links(markdown: &str) -> Vec<String> {
    let mut links = Vec::new();
    for line in outside_code(markdown) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = rest[..end].trim();
            if !target.contains("://") && !target.starts_with("mailto:") && !target.is_empty() {
                links.push(target.to_owned());
            }
            rest = &rest[end..];
        }
    }
    links
}

fn headings(markdown: &str) -> Vec<String> {
    outside_code(markdown)
        .filter_map(|line| {
            let title = line.trim_start_matches('#');
            (line.starts_with('#') && title.starts_with(' ')).then(|| title.trim().to_owned())
        })
        .collect()
}

/// The lines of `markdown` that are not in a fenced code block.
fn outside_code(markdown: &str) -> impl Iterator<Item = &str> {
    let mut in_code = false;
    markdown.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            return false;
        }
        !in_code
    })
}

/// A heading's anchor: lower case, spaces as `-`, only letters, digits, `-`
/// and `_` kept.
fn slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{headings, relative_links, slug};

    #[test]
    fn finds_relative_links_outside_code_and_makes_anchors() {
        let page = "see [a](b.md#c-d) and [x](https://e.org)\n```\n[no](skip.md)\n```\n# Threads (shared memory)\n";
        assert_eq!(relative_links(page), ["b.md#c-d"]);
        assert_eq!(headings(page), ["Threads (shared memory)"]);
        assert_eq!(slug("Threads (shared memory)"), "threads-shared-memory");
        assert_eq!(
            slug("Working on this crate: two commands"),
            "working-on-this-crate-two-commands"
        );
    }
}
