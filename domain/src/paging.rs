//! Cursor paging for lists: `?limit=&cursor=` → `{ items, next_cursor }`. Lists are ordered
//! by UUIDv7 ids (time-ordered), newest first, and the cursor is the last id handed out, so
//! a page never repeats or skips a row however many rows are added meanwhile.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The largest page a client may ask for.
pub const MAX_LIMIT: u64 = 100;
/// The page size when none is asked for.
pub const DEFAULT_LIMIT: u64 = 20;

/// Query parameters of a paged list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page.
    pub limit: u64,
    /// Only items older than this id.
    pub before: Option<Uuid>,
}

impl PageQuery {
    /// Validates the limit and decodes the cursor.
    pub fn parse(&self) -> Result<PageRequest> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Error::field(
                "limit",
                "out_of_range",
                "must be between 1 and 100",
            ));
        }
        let before = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(Uuid::parse_str(c).map_err(|_| {
                Error::field("cursor", "invalid", "not a cursor this list gave out")
            })?),
        };
        Ok(PageRequest { limit, before })
    }
}

/// One page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page of `rows` fetched with `limit + 1` (newest first): the first `limit` mapped
    /// by `view`, and the cursor of the last when there was one more.
    pub fn of<R>(
        mut rows: Vec<R>,
        limit: u64,
        id: impl Fn(&R) -> Uuid,
        view: impl FnMut(R) -> T,
    ) -> Self {
        let next_cursor = if rows.len() as u64 > limit {
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            rows.last().map(|r| id(r).to_string())
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}
