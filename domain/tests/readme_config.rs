//! The README's configuration table states each default `Settings::default()` holds. (That
//! it names every variable the settings read, and no other, is checked beside them in
//! `domain/src/config.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed expectation is a failed test

use std::collections::BTreeMap;

use wufei_domain::config::Settings;

const CONFIG_RS: &str = include_str!("../src/config.rs");
const README: &str = include_str!("../../README.md");

/// The variable each field of `Settings` is read from: the first backticked name of its
/// doc comment (`/// \`WUFEI_BIND\`: …`), by field name.
fn variables_of_fields() -> BTreeMap<String, String> {
    let start = CONFIG_RS
        .find("pub struct Settings {")
        .expect("config.rs declares Settings");
    let end = start + CONFIG_RS[start..].find("\n}\n").expect("Settings ends");
    let mut doc = String::new();
    let mut fields = BTreeMap::new();
    for line in CONFIG_RS[start..end].lines().skip(1) {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("///") {
            doc.push_str(text.trim());
            doc.push(' ');
        } else if let Some(decl) = line.strip_prefix("pub ") {
            let field = decl
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            let variable = doc
                .strip_prefix('`')
                .and_then(|d| d.split('`').next())
                .filter(|v| is_variable(v))
                .unwrap_or_else(|| panic!("field {field} does not name its variable first"));
            fields.insert(field, variable.to_string());
            doc.clear();
        }
    }
    fields
}

/// Whether `s` looks like an environment variable (`WUFEI_WECHAT_TEMPLATE_<KIND>` too).
fn is_variable(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_<>".contains(c))
}

/// The README's configuration table: each row's first-column variables, with the row's
/// default cell.
fn readme_rows() -> BTreeMap<String, String> {
    let section = README
        .split("\n## Configuration\n")
        .nth(1)
        .expect("the README has a Configuration section");
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let default = cells.last().unwrap_or(&"").trim_end_matches('|').trim();
        for name in cells[0].trim_start_matches('|').split(',') {
            let name = name.trim().trim_matches('`');
            assert!(is_variable(name), "not a variable in the table: {name}");
            rows.insert(name.to_string(), default.to_string());
        }
    }
    rows
}

#[test]
fn the_readme_states_each_default_the_settings_hold() {
    let defaults = serde_json::to_value(Settings::default()).expect("settings serialise");
    let rows = readme_rows();
    for (field, variable) in variables_of_fields() {
        let Some(cell) = rows.get(&variable) else {
            panic!("{variable} has no row in the README's configuration table");
        };
        let expected = match &defaults[&field] {
            serde_json::Value::Number(n) => vec![format!("`{n}`")],
            serde_json::Value::String(s) if !s.is_empty() => vec![format!("`{s}`")],
            serde_json::Value::Bool(false) => vec!["off".to_string()],
            serde_json::Value::Bool(true) => vec!["on".to_string()],
            _ => vec!["unset".to_string(), "none".to_string()],
        };
        assert!(
            expected.iter().any(|e| cell.contains(e.as_str())),
            "{variable}: the README says {cell:?}, the default is {}",
            defaults[&field]
        );
    }
}
