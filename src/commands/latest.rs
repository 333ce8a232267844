//! `/latest [n]`: the newest releases from the store, newest first by the site's date.

use crate::render::fit_list;
use crate::store::{Store, StoreError};

/// The newest `n` releases, within Telegram's length limit.
pub fn reply(store: &Store, n: usize) -> Result<String, StoreError> {
    let items: Vec<_> = store.latest(n)?.into_iter().map(|s| s.item).collect();
    if items.is_empty() {
        return Ok("No releases recorded yet: the site has not been read successfully. Try again in a few minutes.".into());
    }
    let header = if items.len() == 1 {
        "<b>Latest release</b>".to_string()
    } else {
        format!("<b>Latest {} releases</b>", items.len())
    };
    Ok(fit_list(&header, &items))
}
