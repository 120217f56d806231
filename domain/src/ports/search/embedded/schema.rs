//! The embedded engine's fields, documents and the charabia tokenizer.

use super::*;

// ---- fields and documents -------------------------------------------------------------

/// The tantivy fields of one spec.
#[derive(Debug, Clone)]
pub(super) struct Fields {
    pub(super) id: Field,
    pub(super) version: Field,
    pub(super) text: Vec<Field>,
    pub(super) parts: Field,
    pub(super) keywords: Vec<(&'static str, Field)>,
    pub(super) numbers: Vec<(&'static str, Field)>,
    pub(super) flags: Vec<(&'static str, Field)>,
    pub(super) lat: Field,
    pub(super) lng: Field,
}

pub(super) fn schema(spec: &IndexSpec) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: b.add_text_field("_id", STRING | FAST),
        version: b.add_i64_field("_version", FAST),
        text: spec
            .text
            .iter()
            .map(|f| b.add_text_field(f, text.clone()))
            .collect(),
        parts: b.add_text_field("_parts", text),
        keywords: spec
            .keywords
            .iter()
            .map(|f| (*f, b.add_text_field(f, STRING | FAST)))
            .collect(),
        numbers: spec
            .numbers
            .iter()
            .map(|f| (*f, b.add_i64_field(f, INDEXED | FAST)))
            .collect(),
        flags: spec
            .flags
            .iter()
            .map(|f| (*f, b.add_bool_field(f, INDEXED | FAST)))
            .collect(),
        lat: b.add_f64_field("_lat", FAST),
        lng: b.add_f64_field("_lng", FAST),
    };
    (b.build(), fields)
}

pub(super) fn field_of(list: &[(&'static str, Field)], name: &str) -> Option<Field> {
    list.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

pub(super) fn to_tantivy(
    fields: &Fields,
    spec: &IndexSpec,
    seg: &Segmenter,
    doc: &Document,
) -> TantivyDocument {
    let mut out = TantivyDocument::new();
    out.add_text(fields.id, &doc.id);
    out.add_i64(fields.version, doc.version);
    let mut texts = Vec::new();
    for (name, field) in spec.text.iter().zip(&fields.text) {
        if let Some(Value::Text(s)) = doc.fields.get(name) {
            out.add_text(*field, s);
            texts.push(s.as_str());
        }
    }
    if let Some(parts) = seg.parts(texts) {
        out.add_text(fields.parts, parts);
    }
    for (name, value) in &doc.fields {
        match value {
            Value::Text(s) => {
                if let Some(f) = field_of(&fields.keywords, name) {
                    out.add_text(f, s);
                }
            }
            Value::Number(n) => {
                if let Some(f) = field_of(&fields.numbers, name) {
                    out.add_i64(f, *n);
                }
            }
            Value::Flag(b) => {
                if let Some(f) = field_of(&fields.flags, name) {
                    out.add_bool(f, *b);
                }
            }
        }
    }
    if let Some(at) = doc.geo {
        out.add_f64(fields.lat, at.lat);
        out.add_f64(fields.lng, at.lng);
    }
    out
}

// ---- the tokenizer ------------------------------------------------------------------

/// charabia's words as a tantivy tokenizer.
#[derive(Clone)]
pub(super) struct Words(pub(super) Arc<Segmenter>);

pub(super) struct WordStream {
    pub(super) tokens: Vec<Token>,
    pub(super) next: usize,
}

impl Tokenizer for Words {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        let tokens = self
            .0
            .words(text)
            .into_iter()
            .enumerate()
            .map(|(position, w)| Token {
                offset_from: w.start,
                offset_to: w.end,
                position,
                text: w.text,
                position_length: 1,
            })
            .collect();
        WordStream { tokens, next: 0 }
    }
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1)]
    }

    fn token_mut(&mut self) -> &mut Token {
        let at = self.next.saturating_sub(1);
        &mut self.tokens[at]
    }
}
