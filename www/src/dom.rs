//! Small DOM helpers: finding elements, reading inputs, writing log lines.

use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement};

pub fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// The element with `id`, as type `T`, if the page has it.
pub fn by_id<T: JsCast>(id: &str) -> Option<T> {
    document()?.get_element_by_id(id)?.dyn_into::<T>().ok()
}

/// The page's query parameter `key` (`?key=value`), if it is there.
pub fn query_param(key: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(key)
}

/// The value of the `<input>` or `<select>` with `id`, or `""`.
pub fn value_of(id: &str) -> String {
    if let Some(input) = by_id::<web_sys::HtmlInputElement>(id) {
        return input.value();
    }
    by_id::<web_sys::HtmlSelectElement>(id)
        .map(|select| select.value())
        .unwrap_or_default()
}

pub fn set_text(id: &str, text: &str) {
    if let Some(element) = by_id::<HtmlElement>(id) {
        element.set_text_content(Some(text));
    }
}

/// Appends `<tag class=class>text</tag>` to the element with `parent_id`.
pub fn append(parent_id: &str, tag: &str, class: &str, text: &str) -> Option<Element> {
    let document = document()?;
    let parent = document.get_element_by_id(parent_id)?;
    let child = document.create_element(tag).ok()?;
    child.set_class_name(class);
    child.set_text_content(Some(text));
    parent.append_child(&child).ok()?;
    Some(child)
}

/// Appends a row of cells to the table body with `body_id`, newest last, and
/// scrolls it into view.
pub fn append_row(body_id: &str, class: &str, cells: &[&str]) {
    let Some(document) = document() else { return };
    let Some(body) = document.get_element_by_id(body_id) else {
        return;
    };
    let Ok(row) = document.create_element("tr") else {
        return;
    };
    row.set_class_name(class);
    for cell in cells {
        if let Ok(td) = document.create_element("td") {
            td.set_text_content(Some(cell));
            let _ = row.append_child(&td);
        }
    }
    let _ = body.append_child(&row);
    if let Some(row) = row.dyn_ref::<HtmlElement>() {
        row.scroll_into_view_with_bool(false);
    }
}

pub fn console_log(text: &str) {
    web_sys::console::log_1(&text.into());
}
