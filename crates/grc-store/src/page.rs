//! Keyset pagination: a page is asked for by `first`/`after` or `last`/`before` over a unique,
//! ordered key; no OFFSET, so a page costs the same wherever it is.

/// A request for one page. The API validates sizes (1..=100) before building one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest<K> {
    Forward { first: u64, after: Option<K> },
    Backward { last: u64, before: Option<K> },
}

/// One page of items in ascending key order.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    /// The same page with each item mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
        }
    }
}

impl<K> PageRequest<K> {
    /// Adds the keyset condition, order and limit (one more row than asked, to know whether
    /// another page follows) over the unique, ordered column `col`.
    pub(crate) fn apply<E, C>(
        &self,
        q: sea_orm::Select<E>,
        col: C,
        value: impl Fn(&K) -> sea_orm::Value,
    ) -> sea_orm::Select<E>
    where
        E: sea_orm::EntityTrait,
        C: sea_orm::ColumnTrait,
    {
        use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
        let q = match self {
            Self::Forward { after, .. } => match after {
                Some(a) => q.filter(col.gt(value(a))),
                None => q,
            }
            .order_by_asc(col),
            Self::Backward { before, .. } => match before {
                Some(b) => q.filter(col.lt(value(b))),
                None => q,
            }
            .order_by_desc(col),
        };
        q.limit(self.limit() + 1)
    }

    pub(crate) fn limit(&self) -> u64 {
        match self {
            Self::Forward { first, .. } => *first,
            Self::Backward { last, .. } => *last,
        }
    }

    /// Builds a page from rows fetched with `limit() + 1` in the request's direction.
    pub(crate) fn finish<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let limit = usize::try_from(self.limit()).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        match self {
            Self::Forward { after, .. } => Page {
                items: rows,
                has_next_page: more,
                has_previous_page: after.is_some(),
            },
            Self::Backward { before, .. } => {
                rows.reverse();
                Page {
                    items: rows,
                    has_next_page: before.is_some(),
                    has_previous_page: more,
                }
            }
        }
    }
}
