//! Charts drawn on the server as SVG: horizontal bars (categories, districts) and columns
//! (months, years). Rust computes the geometry; the templates (`chart_*.html`) draw it,
//! escaping every label. A page always puts the same numbers in a table beside the chart,
//! which is what screen readers and people who want the figures read.

use askama::Template;

/// The drawing's width in SVG units; it scales to the page (narrow, so that its text stays
/// readable when a phone shrinks it to 343 px).
const WIDTH: f64 = 420.0;
/// Where the bars start (labels are left of it).
const LABEL_W: f64 = 118.0;
/// Room right of the longest bar for its figure.
const VALUE_W: f64 = 84.0;
/// Longest label drawn, in characters (the table beside has the whole name).
const LABEL_CHARS: usize = 8;

/// `label` cut to [`LABEL_CHARS`], without a parenthesised gloss (`纸类（纸箱纸盒、书报）`).
fn short(label: &str) -> String {
    let head = label.split(['（', '(']).next().unwrap_or(label).trim();
    if head.chars().count() > LABEL_CHARS {
        head.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
    } else {
        head.to_string()
    }
}
/// Height of one bar's row.
const ROW_H: u32 = 30;

/// One bar.
pub struct Bar {
    /// What it is.
    pub label: String,
    /// The figure as read.
    pub text: String,
    /// Top of its row.
    pub y: u32,
    /// Its length.
    pub length: f64,
}

/// A horizontal bar chart.
#[derive(Template)]
#[template(path = "pages/chart_bars.html")]
pub struct Bars {
    /// Its accessible name.
    pub title: String,
    /// The bars, top to bottom.
    pub bars: Vec<Bar>,
    /// The drawing's height.
    pub height: u32,
    /// Where the bars start.
    pub x0: f64,
    /// The drawing's width.
    pub width: f64,
}

impl Bars {
    /// A chart of `rows` (label, value, figure as read), values ≥ 0.
    pub fn new(title: impl Into<String>, rows: Vec<(String, f64, String)>) -> Self {
        let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max);
        let span = WIDTH - LABEL_W - VALUE_W;
        let bars = rows
            .into_iter()
            .zip(0u32..)
            .map(|((label, v, text), i)| Bar {
                label: short(&label),
                text,
                y: i * ROW_H,
                length: if max > 0.0 {
                    (v.max(0.0) / max * span).max(1.0)
                } else {
                    1.0
                },
            })
            .collect::<Vec<_>>();
        Self {
            title: title.into(),
            height: (bars.len() as u32).max(1) * ROW_H,
            bars,
            x0: LABEL_W,
            width: WIDTH,
        }
    }

    /// The SVG, or nothing when there is nothing to draw.
    pub fn svg(&self) -> String {
        if self.bars.is_empty() {
            return String::new();
        }
        self.render().unwrap_or_default()
    }
}

/// One column.
pub struct Column {
    /// Its label under the axis (a month, a year).
    pub label: String,
    /// The figure as read.
    pub text: String,
    /// Its left edge.
    pub x: f64,
    /// Its width.
    pub width: f64,
    /// Its top.
    pub y: f64,
    /// Its height.
    pub height: f64,
}

/// Height of the columns' area.
const PLOT_H: f64 = 150.0;
/// Room above the columns for the figures.
const TOP: f64 = 24.0;

/// A column chart.
#[derive(Template)]
#[template(path = "pages/chart_columns.html")]
pub struct Columns {
    /// Its accessible name.
    pub title: String,
    /// The columns, left to right.
    pub columns: Vec<Column>,
    /// The axis's y.
    pub base: f64,
    /// A target line's y and label, when the chart has one.
    pub target: Option<(f64, String)>,
    /// The drawing's width.
    pub width: f64,
    /// Whether the figures fit above the columns (the table beside always has them).
    pub values: bool,
}

impl Columns {
    /// A chart of `rows` (label, value, figure as read), values ≥ 0, with an optional
    /// target (value, label) drawn as a line.
    pub fn new(
        title: impl Into<String>,
        rows: Vec<(String, f64, String)>,
        target: Option<(f64, String)>,
    ) -> Self {
        let max = rows
            .iter()
            .map(|r| r.1)
            .chain(target.as_ref().map(|t| t.0))
            .fold(0.0_f64, f64::max);
        let values = rows.len() <= 8;
        let n = rows.len().max(1) as f64;
        let slot = WIDTH / n;
        let scale = |v: f64| {
            if max > 0.0 {
                v.max(0.0) / max * PLOT_H
            } else {
                0.0
            }
        };
        let columns = rows
            .into_iter()
            .enumerate()
            .map(|(i, (label, v, text))| {
                let h = scale(v).max(1.0);
                Column {
                    label,
                    text,
                    x: i as f64 * slot + slot * 0.15,
                    width: slot * 0.7,
                    y: TOP + PLOT_H - h,
                    height: h,
                }
            })
            .collect();
        Self {
            title: title.into(),
            columns,
            base: TOP + PLOT_H,
            target: target.map(|(v, label)| (TOP + PLOT_H - scale(v), label)),
            width: WIDTH,
            values,
        }
    }

    /// The SVG, or nothing when there is nothing to draw.
    pub fn svg(&self) -> String {
        if self.columns.is_empty() {
            return String::new();
        }
        self.render().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_bar_fills_the_span_and_labels_are_escaped() {
        let chart = Bars::new(
            "t",
            vec![
                ("<b>纸类</b>".into(), 10.0, "10".into()),
                ("塑料".into(), 5.0, "5".into()),
            ],
        );
        assert!((chart.bars[0].length - (WIDTH - LABEL_W - VALUE_W)).abs() < 1e-9);
        assert!((chart.bars[1].length * 2.0 - chart.bars[0].length).abs() < 1e-9);
        let svg = chart.svg();
        assert!(
            svg.contains("&#60;b&#62;") || svg.contains("&lt;b&gt;"),
            "{svg}"
        );
        assert!(!svg.contains("<b>"));
    }

    #[test]
    fn columns_stand_on_the_axis() {
        let chart = Columns::new(
            "t",
            vec![
                ("2024".into(), 2.0, "2".into()),
                ("2025".into(), 4.0, "4".into()),
            ],
            Some((8.0, "目标".into())),
        );
        for c in &chart.columns {
            assert!((c.y + c.height - chart.base).abs() < 1e-9);
        }
        assert_eq!(chart.target.as_ref().map(|t| t.0), Some(TOP));
    }
}
