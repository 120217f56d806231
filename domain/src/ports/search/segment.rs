//! How text is cut into words, the same way in both engines: charabia at the version
//! Meilisearch 1.50 itself runs (0.9.9, with jieba-rs 0.8), restricted to Mandarin
//! (`cmn`, what the Meilisearch adapter declares in `localizedAttributes`, so short Chinese
//! text is never read as Japanese), with the spec's dictionary words kept whole (charabia's
//! `words_dict`, Meilisearch's `dictionary`).
//!
//! A dictionary word kept whole would hide its parts: with 再生粗骨料 in the dictionary,
//! neither engine finds it by 骨料. So both adapters index, besides the text fields, one
//! more, `_parts`, built by [`Segmenter::parts`] with the parts jieba cuts each dictionary
//! word into; it ranks below every text field. A query for 再生粗骨料 is one word and
//! matches the whole word only; a query for 骨料 matches the part.
//!
//! What charabia does (measured in this module's tests): Latin letters are lower-cased and
//! stay with the digits that follow them (`C30` → `c30`, `C30混凝土` → `c30`, `混凝土`);
//! `-`, `/`, `.` and `×` separate, so `5-31.5mm` → `5`, `31`, `5mm` and `GB/T 25177` →
//! `gb`, `t`, `25177`. Chinese is normalised to one variant of each character (砖 and 磚 are
//! the same word). A query goes through the same cut and every word must match, so `C30`
//! finds `C30` and `5-31.5mm` finds `5-31.5mm` (and `31` finds it too); there is no infix
//! matching beyond the dictionary parts: `粗骨` finds nothing, `骨料` finds 再生粗骨料.

use std::collections::HashSet;

use charabia::{Language, Tokenizer, TokenizerBuilder};

/// The languages charabia may detect: Mandarin only (Meilisearch's `cmn`).
const LANGUAGES: &[Language] = &[Language::Cmn];

/// A word of a text as the engines index it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The normalised word (lower-cased, simplified).
    pub text: String,
    /// Where it was in the original text, in bytes.
    pub start: usize,
    /// Where it ended in the original text, in bytes.
    pub end: usize,
}

/// Cuts text into words for one index spec.
pub struct Segmenter {
    /// With the dictionary words kept whole.
    whole: Tokenizer<'static>,
    /// Without the dictionary: how jieba cuts a dictionary word into parts.
    plain: Tokenizer<'static>,
    dictionary: HashSet<&'static str>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("dictionary", &self.dictionary)
            .finish_non_exhaustive()
    }
}

impl Segmenter {
    /// A segmenter keeping `dictionary`'s words whole.
    pub fn new(dictionary: &'static [&'static str]) -> Self {
        let mut whole = TokenizerBuilder::<Vec<u8>>::new();
        whole.allow_list(LANGUAGES);
        if !dictionary.is_empty() {
            whole.words_dict(dictionary);
        }
        let mut plain = TokenizerBuilder::<Vec<u8>>::new();
        plain.allow_list(LANGUAGES);
        Self {
            whole: whole.into_tokenizer(),
            plain: plain.into_tokenizer(),
            dictionary: dictionary.iter().copied().collect(),
        }
    }

    /// The words of `text`, dictionary words whole, in order.
    pub fn words(&self, text: &str) -> Vec<Word> {
        self.whole
            .tokenize(text)
            .filter(|t| t.is_word() && !t.lemma().trim().is_empty())
            .map(|t| Word {
                text: t.lemma().to_string(),
                start: t.byte_start,
                end: t.byte_end,
            })
            .collect()
    }

    /// The normalised words of `text` only.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.words(text).into_iter().map(|w| w.text).collect()
    }

    /// The parts of the dictionary words in `texts`, as one text (parts separated by
    /// spaces), or `None` when no dictionary word there has parts: what both adapters
    /// index as `_parts`.
    pub fn parts<'t>(&self, texts: impl IntoIterator<Item = &'t str>) -> Option<String> {
        if self.dictionary.is_empty() {
            return None;
        }
        let mut parts: Vec<String> = Vec::new();
        for text in texts {
            for word in self.words(text) {
                let original = text.get(word.start..word.end).unwrap_or_default();
                if !self.dictionary.contains(original) {
                    continue;
                }
                let cut: Vec<String> = self
                    .plain
                    .tokenize(original)
                    .filter(|t| t.is_word())
                    .map(|t| text_of(original, t.byte_start, t.byte_end))
                    .collect();
                if cut.len() > 1 {
                    parts.extend(cut);
                }
            }
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

fn text_of(s: &str, start: usize, end: usize) -> String {
    s.get(start..end).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DICTIONARY: &[&str] = &["再生粗骨料", "透水砖", "路基"];

    #[test]
    fn dictionary_words_stay_whole_and_their_parts_are_given_apart() {
        let seg = Segmenter::new(DICTIONARY);
        let terms = seg.terms("再生粗骨料 C30 5-31.5mm，透水砖");
        assert_eq!(terms, ["再生粗骨料", "c30", "5", "31", "5mm", "透水磚"]);
        let parts = seg.parts(["再生粗骨料 C30", "透水砖"]).unwrap();
        assert_eq!(parts, "再生 粗 骨料 透水 砖");
        assert_eq!(seg.parts(["再生砖"]), None);
    }

    #[test]
    fn latin_letters_and_digits_are_cut_alike_in_text_and_query() {
        let seg = Segmenter::new(DICTIONARY);
        let doc = seg.terms("再生粗骨料 C30 5-31.5mm GB/T 25177");
        for query in ["C30", "5-31.5mm", "c30", "GB/T 25177"] {
            let q = seg.terms(query);
            assert!(!q.is_empty());
            assert!(
                q.iter().all(|t| doc.contains(t)),
                "{query}: {q:?} in {doc:?}"
            );
        }
        assert_eq!(seg.terms("C30"), vec!["c30"]);
        assert_eq!(seg.terms("GB/T 25177"), ["gb", "t", "25177"]);
        assert_eq!(seg.terms("C30混凝土"), ["c30", "混凝土"]);
        assert_eq!(seg.terms("砖"), seg.terms("磚"));
    }

    #[test]
    fn punctuation_and_symbols_are_no_words() {
        let seg = Segmenter::new(&[]);
        assert!(seg.terms("\"'\\:()[]{} -+&!*?,.;").is_empty());
        assert_eq!(seg.parts(["再生粗骨料"]), None);
    }
}
