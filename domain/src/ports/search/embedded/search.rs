//! Running a query: the tantivy query a [`Query`] makes, collecting rows, ordering them.

use super::{index::*, schema::*, *};
use crate::ports::search::Near;

// ---- search ----------------------------------------------------------------------------

/// One of the best matching documents, as the collector returns it.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) id: String,
    pub(super) score: Score,
    pub(super) key: Option<i64>,
}

/// What a search collects: the best `keep` matches (in the query's order), how many
/// documents match (within the distance, if any), and the facet counts over all of them.
pub(super) struct Found {
    pub(super) rows: Vec<(Row, Option<f64>)>,
    pub(super) total: u64,
    pub(super) facets: Vec<BTreeMap<String, u64>>,
}

/// Collects the best matches without copying every match out of the index: per segment a
/// bounded heap of candidates ordered by the sort key (or distance), score and the id's term
/// ordinal (within a segment ordinals sort as the ids do, so the segment's best by ordinal
/// are its best by id); facets are counted by ordinal. Strings are read only for the heap's
/// survivors and the distinct facet values.
pub(super) struct Rows {
    pub(super) sort: Sort,
    pub(super) key: Option<&'static str>,
    pub(super) near: Option<Near>,
    pub(super) keep: usize,
    pub(super) facets: Vec<&'static str>,
}

/// A match in a segment's heap.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    key: Option<i64>,
    distance: Option<f64>,
    score: Score,
    id_ord: u64,
}

/// Orders by the query's sort (missing values last), then better score, then smaller id.
fn rank(sort: Sort, a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
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
    let first = match sort {
        Sort::Relevance => Ordering::Equal,
        Sort::Asc(_) => missing_last(a.key, b.key, false),
        Sort::Desc(_) => missing_last(a.key, b.key, true),
        Sort::Distance => missing_last(a.distance, b.distance, false),
    };
    first
        .then_with(|| b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal))
        .then_with(|| a.id_ord.cmp(&b.id_ord))
}

/// A heap entry whose greatest is the worst candidate, so the heap drops it first.
struct Worst(Sort, Candidate);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        rank(self.0, &self.1, &other.1)
    }
}

pub(super) struct SegmentRows {
    sort: Sort,
    near: Option<Near>,
    keep: usize,
    ids: Option<StrColumn>,
    key: Option<Column<i64>>,
    lat: Column<f64>,
    lng: Column<f64>,
    facet_columns: Vec<Option<StrColumn>>,
    facet_counts: Vec<HashMap<u64, u64>>,
    heap: std::collections::BinaryHeap<Worst>,
    total: u64,
}

/// The string of term ordinal `ord` of `column`.
fn str_of(column: &StrColumn, ord: u64, buf: &mut String) -> Option<String> {
    match column.ord_to_str(ord, buf) {
        Ok(true) => Some(buf.clone()),
        _ => None,
    }
}

impl Collector for Rows {
    type Fruit = Found;
    type Child = SegmentRows;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentRows> {
        let ff = segment.fast_fields();
        let facet_columns: Vec<Option<StrColumn>> = self
            .facets
            .iter()
            .map(|f| ff.str(f))
            .collect::<tantivy::Result<_>>()?;
        Ok(SegmentRows {
            sort: self.sort,
            near: self.near,
            keep: self.keep,
            ids: ff.str("_id")?,
            key: self.key.map(|k| ff.i64(k)).transpose()?,
            lat: ff.f64("_lat")?,
            lng: ff.f64("_lng")?,
            facet_counts: vec![HashMap::new(); facet_columns.len()],
            facet_columns,
            heap: std::collections::BinaryHeap::new(),
            total: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Found>) -> tantivy::Result<Found> {
        let mut out = Found {
            rows: Vec::new(),
            total: 0,
            facets: vec![BTreeMap::new(); self.facets.len()],
        };
        for f in fruits {
            out.rows.extend(f.rows);
            out.total += f.total;
            for (all, some) in out.facets.iter_mut().zip(f.facets) {
                for (value, n) in some {
                    *all.entry(value).or_default() += n;
                }
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for SegmentRows {
    type Fruit = Found;

    fn collect(&mut self, doc: DocId, score: Score) {
        let Some(id_ord) = self.ids.as_ref().and_then(|c| c.term_ords(doc).next()) else {
            return;
        };
        let distance = match &self.near {
            None => None,
            Some(near) => {
                let at = match (self.lat.first(doc), self.lng.first(doc)) {
                    (Some(lat), Some(lng)) => Some(Position { lat, lng }),
                    _ => None,
                };
                let d = at.map(|at| distance_m(near.at, at));
                match (near.within_m, d) {
                    (None, _) => d,
                    (Some(r), Some(d)) if d <= r => Some(d),
                    _ => return,
                }
            }
        };
        self.total += 1;
        for (column, counts) in self.facet_columns.iter().zip(&mut self.facet_counts) {
            if let Some(ord) = column.as_ref().and_then(|c| c.term_ords(doc).next()) {
                *counts.entry(ord).or_default() += 1;
            }
        }
        let candidate = Candidate {
            key: self.key.as_ref().and_then(|c| c.first(doc)),
            distance,
            score,
            id_ord,
        };
        if self.heap.len() < self.keep {
            self.heap.push(Worst(self.sort, candidate));
        } else if let Some(worst) = self.heap.peek()
            && rank(self.sort, &candidate, &worst.1) == std::cmp::Ordering::Less
        {
            self.heap.pop();
            self.heap.push(Worst(self.sort, candidate));
        }
    }

    fn harvest(self) -> Found {
        let mut buf = String::new();
        let rows = match &self.ids {
            None => Vec::new(),
            Some(ids) => self
                .heap
                .into_iter()
                .filter_map(|Worst(_, c)| {
                    let id = str_of(ids, c.id_ord, &mut buf)?;
                    Some((
                        Row {
                            id,
                            score: c.score,
                            key: c.key,
                        },
                        c.distance,
                    ))
                })
                .collect(),
        };
        let facets = self
            .facet_columns
            .iter()
            .zip(self.facet_counts)
            .map(|(column, counts)| {
                let mut named: BTreeMap<String, u64> = BTreeMap::new();
                if let Some(column) = column {
                    for (ord, n) in counts {
                        if let Some(value) = str_of(column, ord, &mut buf) {
                            *named.entry(value).or_default() += n;
                        }
                    }
                }
                named
            })
            .collect();
        Found {
            rows,
            total: self.total,
            facets,
        }
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
    let start = query.offset.min(MAX_REACHABLE_HITS);
    let end = start
        .saturating_add(query.limit.min(MAX_LIMIT))
        .min(MAX_REACHABLE_HITS);
    let collector = Rows {
        sort: query.sort,
        key,
        near: query.near,
        keep: end,
        facets: query.facets.clone(),
    };
    let found = searcher
        .search(&*build_query(spec, slot, query), &collector)
        .map_err(err)?;
    let mut facets: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (name, mut counts) in query.facets.iter().zip(found.facets) {
        while counts.len() > MAX_FACET_VALUES {
            counts.pop_last();
        }
        facets.insert(name.to_string(), counts);
    }
    let mut rows = found.rows;
    rows.sort_by(|a, b| order(query, a, b));
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
        estimated_total: found.total,
        facets,
    })
}
