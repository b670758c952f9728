//! The list contract on the wire: `?sort=name` or `?sort=-name`, `?limit=` (default 50, at
//! most 500) and `?cursor=` from the previous page's `next_cursor`; the answer is
//! `{"items", "next_cursor", "total", "total_capped"}`.

use serde::Serialize;
use utoipa::ToSchema;

use store::list::{ListSpec, Page, PageRequest};

/// Parses the paging part of a list query against the list's declaration.
pub fn page_request<E: store::list::EntityTrait>(
    spec: &ListSpec<E>,
    sort: Option<&str>,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> Result<PageRequest, super::error::ApiError> {
    PageRequest::parse(spec, sort, limit, cursor).map_err(|e| super::error::ApiError::invalid(&e))
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T: ToSchema> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Rows matching the filters, counted up to 10 000.
    pub total: u64,
    /// True when more than 10 000 rows match (then `total` is 10 000).
    pub total_capped: bool,
}

impl<T: ToSchema> ListResponse<T> {
    /// The response for a page of stored rows mapped by `f`.
    pub fn from_page<R>(page: Page<R>, f: impl FnMut(R) -> T) -> Self {
        let page = page.map(f);
        Self {
            items: page.items,
            next_cursor: page.next_cursor,
            total: page.total,
            total_capped: page.total_capped,
        }
    }

    /// The response for a page of stored rows mapped by `f`, which may refuse a row: the
    /// first refusal is the answer, so no row is left out or shown as something else.
    pub fn try_from_page<R, E>(page: Page<R>, f: impl FnMut(R) -> Result<T, E>) -> Result<Self, E> {
        let items = page.items.into_iter().map(f).collect::<Result<_, E>>()?;
        Ok(Self {
            items,
            next_cursor: page.next_cursor,
            total: page.total,
            total_capped: page.total_capped,
        })
    }
}
