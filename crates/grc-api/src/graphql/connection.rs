//! Relay cursor connections over the store's keyset pages.

use super::ids::{cursor, decode_cursor};
use crate::errors::{ErrorCode, gql_error};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{OutputType, SimpleObject};
use grc_store::{Page, PageRequest};
use uuid::Uuid;

/// At most this many items a page.
pub const MAX_PAGE: i32 = 100;
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: i32 = 20;

/// Fields every connection carries besides edges and pageInfo.
#[derive(Debug, SimpleObject)]
pub struct ConnectionFields {
    /// How many items the whole connection holds (not just this page).
    pub total_count: u64,
}

/// The paging arguments, as received.
#[derive(Debug, Default, Clone)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    /// Validates the arguments and decodes the cursor with `parse_key`.
    pub fn into_request<K>(
        self,
        parse_key: impl Fn(&str) -> Option<K>,
    ) -> async_graphql::Result<PageRequest<K>> {
        let bad = |m: &str| gql_error(ErrorCode::BadUserInput, m);
        let size = |n: i32, name: &str| {
            if (0..=MAX_PAGE).contains(&n) {
                Ok(u64::try_from(n).unwrap_or(0))
            } else {
                Err(bad(&format!("{name} must be between 0 and {MAX_PAGE}")))
            }
        };
        let key = |c: &str, name: &str| {
            decode_cursor(c)
                .and_then(|k| parse_key(&k))
                .ok_or_else(|| bad(&format!("{name} is not a cursor of this connection")))
        };
        match (self.first, self.last) {
            (Some(_), Some(_)) => Err(bad("give first or last, not both")),
            (None, Some(last)) => {
                if self.after.is_some() {
                    return Err(bad("after goes with first; before goes with last"));
                }
                Ok(PageRequest::Backward {
                    last: size(last, "last")?,
                    before: self
                        .before
                        .as_deref()
                        .map(|c| key(c, "before"))
                        .transpose()?,
                })
            }
            (first, None) => {
                if self.before.is_some() {
                    return Err(bad("after goes with first; before goes with last"));
                }
                Ok(PageRequest::Forward {
                    first: size(first.unwrap_or(DEFAULT_PAGE), "first")?,
                    after: self.after.as_deref().map(|c| key(c, "after")).transpose()?,
                })
            }
        }
    }
}

/// Builds a connection from a page; `key` gives each item's cursor key.
pub fn build<T: OutputType>(
    page: Page<T>,
    total_count: u64,
    key: impl Fn(&T) -> String,
) -> Connection<String, T, ConnectionFields> {
    let mut c = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionFields { total_count },
    );
    c.edges.extend(
        page.items
            .into_iter()
            .map(|item| Edge::new(cursor(&key(&item)), item)),
    );
    c
}

/// Whether the query selected `totalCount` on this field (so the COUNT is only run when asked).
pub fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Pages items already in ascending id order in memory, the way the store pages in SQL.
pub(crate) fn page_in_memory<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> Uuid,
    req: &PageRequest<Uuid>,
) -> Page<T> {
    match req {
        PageRequest::Forward { first, after } => {
            let limit = usize::try_from(*first).unwrap_or(usize::MAX);
            let mut rest: Vec<T> = items
                .into_iter()
                .filter(|i| after.is_none_or(|a| id(i) > a))
                .collect();
            let more = rest.len() > limit;
            rest.truncate(limit);
            Page {
                items: rest,
                has_next_page: more,
                has_previous_page: after.is_some(),
            }
        }
        PageRequest::Backward { last, before } => {
            let limit = usize::try_from(*last).unwrap_or(usize::MAX);
            let mut rest: Vec<T> = items
                .into_iter()
                .filter(|i| before.is_none_or(|b| id(i) < b))
                .collect();
            let more = rest.len() > limit;
            let cut = rest.len().saturating_sub(limit);
            let items = rest.split_off(cut);
            Page {
                items,
                has_next_page: before.is_some(),
                has_previous_page: more,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Option<i64> {
        s.parse().ok()
    }

    #[test]
    fn page_args() {
        let r = PageArgs::default().into_request(parse).expect("default");
        assert_eq!(
            r,
            PageRequest::Forward {
                first: 20,
                after: None
            }
        );
        let r = PageArgs {
            last: Some(5),
            before: Some(cursor("9")),
            ..Default::default()
        }
        .into_request(parse)
        .expect("last");
        assert_eq!(
            r,
            PageRequest::Backward {
                last: 5,
                before: Some(9)
            }
        );
        for bad in [
            PageArgs {
                first: Some(1),
                last: Some(1),
                ..Default::default()
            },
            PageArgs {
                first: Some(101),
                ..Default::default()
            },
            PageArgs {
                first: Some(-1),
                ..Default::default()
            },
            PageArgs {
                last: Some(1),
                after: Some(cursor("1")),
                ..Default::default()
            },
            PageArgs {
                first: Some(1),
                before: Some(cursor("1")),
                ..Default::default()
            },
            PageArgs {
                after: Some("nope".into()),
                ..Default::default()
            },
            PageArgs {
                after: Some(cursor("x")),
                ..Default::default()
            },
        ] {
            assert!(bad.clone().into_request(parse).is_err(), "{bad:?}");
        }
        assert!(
            PageArgs {
                first: Some(100),
                ..Default::default()
            }
            .into_request(parse)
            .is_ok()
        );
    }
}
