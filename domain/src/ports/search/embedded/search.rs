//! Running a query: the tantivy query a [`Query`] makes, collecting rows, ordering them.

use super::{index::*, schema::*, *};

// ---- search ----------------------------------------------------------------------------

/// One matching document, as the collector reads it.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) id: String,
    pub(super) score: Score,
    pub(super) key: Option<i64>,
    pub(super) at: Option<Position>,
    pub(super) facets: Vec<Option<String>>,
}

/// Collects every matching document with what sorting, distance and facets need.
pub(super) struct Rows {
    pub(super) key: Option<&'static str>,
    pub(super) facets: Vec<&'static str>,
}

pub(super) struct SegmentRows {
    pub(super) ids: Option<StrColumn>,
    pub(super) key: Option<Column<i64>>,
    pub(super) lat: Column<f64>,
    pub(super) lng: Column<f64>,
    pub(super) facets: Vec<Option<StrColumn>>,
    pub(super) rows: Vec<Row>,
    pub(super) buf: String,
}

pub(super) fn str_of(column: Option<&StrColumn>, doc: DocId, buf: &mut String) -> Option<String> {
    let column = column?;
    let ord = column.term_ords(doc).next()?;
    match column.ord_to_str(ord, buf) {
        Ok(true) => Some(buf.clone()),
        _ => None,
    }
}

impl Collector for Rows {
    type Fruit = Vec<Row>;
    type Child = SegmentRows;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentRows> {
        let ff = segment.fast_fields();
        Ok(SegmentRows {
            ids: ff.str("_id")?,
            key: self.key.map(|k| ff.i64(k)).transpose()?,
            lat: ff.f64("_lat")?,
            lng: ff.f64("_lng")?,
            facets: self
                .facets
                .iter()
                .map(|f| ff.str(f))
                .collect::<tantivy::Result<_>>()?,
            rows: Vec::new(),
            buf: String::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Row>>) -> tantivy::Result<Vec<Row>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentRows {
    type Fruit = Vec<Row>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let Some(id) = str_of(self.ids.as_ref(), doc, &mut self.buf) else {
            return;
        };
        let at = match (self.lat.first(doc), self.lng.first(doc)) {
            (Some(lat), Some(lng)) => Some(Position { lat, lng }),
            _ => None,
        };
        let facets = self
            .facets
            .iter()
            .map(|c| str_of(c.as_ref(), doc, &mut self.buf))
            .collect();
        self.rows.push(Row {
            id,
            score,
            key: self.key.as_ref().and_then(|c| c.first(doc)),
            at,
            facets,
        });
    }

    fn harvest(self) -> Vec<Row> {
        self.rows
    }
}

/// The clauses of the query text: each must match; a clause is one word, or a synonym
/// group (any member, each member's words all).
pub(super) fn text_clauses(spec: &IndexSpec, seg: &Segmenter, text: &str) -> Vec<Vec<Vec<String>>> {
    let mut terms = seg.terms(truncate_query(text));
    terms.truncate(MAX_QUERY_TERMS);
    let groups: Vec<Vec<Vec<String>>> = spec
        .synonyms
        .iter()
        .map(|g| {
            g.iter()
                .map(|m| seg.terms(m))
                .filter(|t| !t.is_empty())
                .collect()
        })
        .collect();
    let mut clauses = Vec::new();
    let mut i = 0;
    while i < terms.len() {
        // The longest member of any group that the words starting here spell.
        let mut best: Option<(usize, &Vec<Vec<String>>)> = None;
        for group in &groups {
            for member in group {
                let n = member.len();
                if terms.get(i..i + n) == Some(member.as_slice())
                    && best.is_none_or(|(len, _)| n > len)
                {
                    best = Some((n, group));
                }
            }
        }
        match best {
            Some((n, group)) => {
                clauses.push(group.clone());
                i += n;
            }
            None => {
                clauses.push(vec![vec![terms[i].clone()]]);
                i += 1;
            }
        }
    }
    clauses
}

pub(super) fn boxed(q: impl TQuery) -> Box<dyn TQuery> {
    Box::new(q)
}

/// A word found in any text field (earlier fields weigh more) or in `_parts`.
pub(super) fn word_query(fields: &Fields, word: &str) -> Box<dyn TQuery> {
    let n = fields.text.len();
    let mut any: Vec<(Occur, Box<dyn TQuery>)> = fields
        .text
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let boost = (1u32 << (n - 1 - i).min(16)) as Score;
            let q = TermQuery::new(
                Term::from_field_text(*f, word),
                IndexRecordOption::WithFreqs,
            );
            (Occur::Should, boxed(BoostQuery::new(boxed(q), boost)))
        })
        .collect();
    let q = TermQuery::new(
        Term::from_field_text(fields.parts, word),
        IndexRecordOption::WithFreqs,
    );
    any.push((Occur::Should, boxed(BoostQuery::new(boxed(q), PARTS_BOOST))));
    boxed(BooleanQuery::new(any))
}

pub(super) fn filter(q: impl TQuery) -> (Occur, Box<dyn TQuery>) {
    (Occur::Must, boxed(ConstScoreQuery::new(boxed(q), 0.0)))
}

pub(super) fn bound<T>(v: Option<T>) -> Bound<T> {
    v.map_or(Bound::Unbounded, Bound::Included)
}

pub(super) fn build_query(spec: &IndexSpec, slot: &Slot, query: &Query) -> Box<dyn TQuery> {
    let fields = &slot.fields;
    let mut must: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
    for clause in text_clauses(spec, &slot.seg, &query.text) {
        let members: Vec<(Occur, Box<dyn TQuery>)> = clause
            .iter()
            .map(|words| {
                let all = words
                    .iter()
                    .map(|w| (Occur::Must, word_query(fields, w)))
                    .collect();
                (Occur::Should, boxed(BooleanQuery::new(all)))
            })
            .collect();
        must.push((Occur::Must, boxed(BooleanQuery::new(members))));
    }
    for f in &query.filters {
        match f {
            Filter::Is(name, value) => {
                let Some(field) = field_of(&fields.keywords, name) else {
                    return boxed(EmptyQuery);
                };
                must.push(filter(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                )));
            }
            Filter::Between(name, lo, hi) => {
                let Some(field) = field_of(&fields.numbers, name) else {
                    return boxed(EmptyQuery);
                };
                if lo.is_some() || hi.is_some() {
                    must.push(filter(RangeQuery::new(
                        bound(lo.map(|v| Term::from_field_i64(field, v))),
                        bound(hi.map(|v| Term::from_field_i64(field, v))),
                    )));
                }
            }
            Filter::Flag(name, value) => {
                let Some(field) = field_of(&fields.flags, name) else {
                    return boxed(EmptyQuery);
                };
                must.push(filter(TermQuery::new(
                    Term::from_field_bool(field, *value),
                    IndexRecordOption::Basic,
                )));
            }
        }
    }
    if let Some(near) = &query.near
        && let Some(radius) = near.within_m
    {
        // A box a little larger than the circle; the exact distance decides afterwards.
        let dlat = (radius / EARTH_RADIUS_M).to_degrees() * 1.01 + 1e-6;
        let cos = near.at.lat.to_radians().cos().max(1e-6);
        let dlng = ((radius / EARTH_RADIUS_M).to_degrees() / cos * 1.01 + 1e-6).min(360.0);
        must.push(filter(RangeQuery::new(
            Bound::Included(Term::from_field_f64(fields.lat, near.at.lat - dlat)),
            Bound::Included(Term::from_field_f64(fields.lat, near.at.lat + dlat)),
        )));
        // Near the antimeridian the box would wrap: leave longitude to the exact check.
        if near.at.lng - dlng > -180.0 && near.at.lng + dlng < 180.0 {
            must.push(filter(RangeQuery::new(
                Bound::Included(Term::from_field_f64(fields.lng, near.at.lng - dlng)),
                Bound::Included(Term::from_field_f64(fields.lng, near.at.lng + dlng)),
            )));
        }
    }
    if must.is_empty() {
        boxed(AllQuery)
    } else {
        boxed(BooleanQuery::new(must))
    }
}

/// Orders `a` before `b`: missing values last, then better score, then smaller id.
pub(super) fn order(
    query: &Query,
    a: &(Row, Option<f64>),
    b: &(Row, Option<f64>),
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn missing_last<T: PartialOrd>(x: Option<T>, y: Option<T>, desc: bool) -> Ordering {
        match (x, y) {
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                if desc { o.reverse() } else { o }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let first = match query.sort {
        Sort::Relevance => Ordering::Equal,
        Sort::Asc(_) => missing_last(a.0.key, b.0.key, false),
        Sort::Desc(_) => missing_last(a.0.key, b.0.key, true),
        Sort::Distance => missing_last(a.1, b.1, false),
    };
    first
        .then_with(|| b.0.score.partial_cmp(&a.0.score).unwrap_or(Ordering::Equal))
        .then_with(|| a.0.id.cmp(&b.0.id))
}

pub(super) fn run_search(spec: &IndexSpec, slot: &Slot, query: &Query) -> Result<Hits, PortError> {
    if query.near.as_ref().is_some_and(|n| !near_is_satisfiable(n)) {
        return Ok(Hits::default());
    }
    let live = slot.live();
    let searcher = live.reader.searcher();
    let key = match query.sort {
        Sort::Asc(k) | Sort::Desc(k) => Some(k),
        _ => None,
    };
    let collector = Rows {
        key,
        facets: query.facets.clone(),
    };
    let rows = searcher
        .search(&*build_query(spec, slot, query), &collector)
        .map_err(err)?;
    let mut rows: Vec<(Row, Option<f64>)> = rows
        .into_iter()
        .filter_map(|row| match &query.near {
            None => Some((row, None)),
            Some(near) => {
                let d = row.at.map(|at| distance_m(near.at, at));
                match (near.within_m, d) {
                    (None, _) => Some((row, d)),
                    (Some(r), Some(d)) if d <= r => Some((row, Some(d))),
                    _ => None,
                }
            }
        })
        .collect();
    let mut facets: BTreeMap<String, BTreeMap<String, u64>> = query
        .facets
        .iter()
        .map(|f| (f.to_string(), BTreeMap::new()))
        .collect();
    for (row, _) in &rows {
        for (name, value) in query.facets.iter().zip(&row.facets) {
            if let (Some(counts), Some(value)) = (facets.get_mut(*name), value) {
                *counts.entry(value.clone()).or_default() += 1;
            }
        }
    }
    for counts in facets.values_mut() {
        while counts.len() > MAX_FACET_VALUES {
            counts.pop_last();
        }
    }
    rows.sort_by(|a, b| order(query, a, b));
    let total = rows.len() as u64;
    let start = query.offset.min(MAX_REACHABLE_HITS);
    let end = start
        .saturating_add(query.limit.min(MAX_LIMIT))
        .min(MAX_REACHABLE_HITS);
    let hits = rows
        .into_iter()
        .skip(start)
        .take(end - start)
        .map(|(row, d)| Hit {
            id: row.id,
            distance_m: d,
        })
        .collect();
    Ok(Hits {
        hits,
        estimated_total: total,
        facets,
    })
}
