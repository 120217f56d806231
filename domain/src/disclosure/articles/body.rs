//! Article bodies: Markdown (which may hold HTML) rendered to HTML, then cleaned to a safe
//! subset on the way in, so what is stored and served can be put in a page as it is.
//!
//! What survives: headings, paragraphs, lists, tables, quotes, emphasis, code, links to
//! `http`, `https`, `mailto` and `tel` (or relative ones, opened with `rel="noopener
//! noreferrer nofollow"`), and images served by Wufei itself (`/v1/uploads/…`). What never
//! does: `script`, `style`, `iframe` and other active elements with their content, event
//! handlers and any other attribute not on the list, `javascript:` and `data:` URLs, images
//! from other hosts (a page must not make its readers' browsers call a third party).

use std::{borrow::Cow, collections::HashSet, sync::OnceLock};

use pulldown_cmark::{Options, Parser, html};

/// An article body ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// The sanitised HTML.
    pub html: String,
    /// Its plain text (for search and summaries).
    pub text: String,
}

/// Where images in a body may come from: Wufei's own uploads.
const OWN_IMAGES: &str = "/v1/uploads/";

fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
            .link_rel(Some("noopener noreferrer nofollow"))
            .attribute_filter(|element, attribute, value| {
                if element == "img" && attribute == "src" && !value.starts_with(OWN_IMAGES) {
                    return None;
                }
                Some(Cow::Borrowed(value))
            });
        b
    })
}

fn text_only() -> &'static ammonia::Builder<'static> {
    static TEXT: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    TEXT.get_or_init(ammonia::Builder::empty)
}

/// Renders `source` (Markdown, possibly with HTML) and cleans it.
pub fn render(source: &str) -> Body {
    let mut raw = String::with_capacity(source.len() * 3 / 2);
    html::push_html(
        &mut raw,
        Parser::new_ext(
            source,
            Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
        ),
    );
    let html = cleaner().clean(&raw).to_string();
    let text = plain(&text_only().clean(&html).to_string());
    Body { html, text }
}

/// `escaped` (text with HTML entities) as plain text, its runs of white space made one.
fn plain(escaped: &str) -> String {
    let unescaped = escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    unescaped.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        let b = render("# 通知\n\n请于 **12 月 31 日** 前报送。\n\n- 一\n- 二\n");
        assert!(b.html.contains("<h1>通知</h1>"), "{}", b.html);
        assert!(b.html.contains("<strong>12 月 31 日</strong>"));
        assert!(b.html.contains("<li>一</li>"));
        assert_eq!(b.text, "通知 请于 12 月 31 日 前报送。 一 二");
    }

    #[test]
    fn scripts_handlers_and_javascript_links_never_survive() {
        for hostile in [
            "<script>alert(1)</script>正文",
            "<img src=x onerror=alert(1)>正文",
            "<a href=\"javascript:alert(1)\">点我</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">点我</a>",
            "[点我](javascript:alert(1))",
            "<p onclick=\"alert(1)\" style=\"color:red\">正文</p>",
            "<iframe src=\"https://example.org\"></iframe>",
            "<svg><script>alert(1)</script></svg>",
            "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
            "<style>body{display:none}</style>",
            "<form action=\"https://example.org\"><input name=a></form>",
        ] {
            let b = render(hostile);
            let lower = b.html.to_lowercase();
            for banned in [
                "<script",
                "onerror",
                "onclick",
                "javascript:",
                "<iframe",
                "style=",
                "data:",
                "<form",
                "<input",
                "<svg",
                "<style",
            ] {
                assert!(
                    !lower.contains(banned),
                    "{hostile:?} kept {banned}: {}",
                    b.html
                );
            }
        }
    }

    #[test]
    fn links_are_kept_safely_and_only_own_images() {
        let b = render(
            "[规划](https://www.example.gov.cn/plan) ![图](/v1/uploads/0190/content) ![外](https://tracker.example.com/p.gif)",
        );
        assert!(b.html.contains("href=\"https://www.example.gov.cn/plan\""));
        assert!(b.html.contains("rel=\"noopener noreferrer nofollow\""));
        assert!(b.html.contains("src=\"/v1/uploads/0190/content\""));
        assert!(!b.html.contains("tracker.example.com"), "{}", b.html);
    }

    #[test]
    fn text_is_unescaped_once() {
        assert_eq!(render("A &amp; B < C").text, "A & B < C");
    }
}
