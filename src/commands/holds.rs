//! How `/quiet` and `/digest` hold a target's pushes: a change of either is
//! durable first, then lifts the chat's hold, so delivery looks at it again
//! at once (a hold that ended or moved must not wait for the next release
//! to be noticed).

use super::Context;
use crate::config::Language;
use crate::settings::TargetSettings;
use crate::store::{StoreError, Target};
use crate::tr;

/// Changes how `target` holds its pushes, durably, then has the chat's held
/// pushes looked at again at once.
pub(crate) async fn change_hold<R>(
    ctx: &Context,
    target: Target,
    change: impl Fn(&mut TargetSettings) -> R,
) -> Result<R, StoreError> {
    let changed = ctx.store.change_settings(target, change).await?;
    ctx.holds.lift(target.chat);
    Ok(changed)
}

/// Ends one way `target` holds its pushes (`take` clears it, saying whether
/// it was on); returns whether it was, and how many pushes are now on their
/// way (none while the other way still holds them).
pub(crate) async fn end_hold(
    ctx: &Context,
    target: Target,
    take: impl Fn(&mut TargetSettings) -> bool,
) -> Result<(bool, usize), StoreError> {
    let (had, still_held) = change_hold(ctx, target, |s| (take(s), s.holds())).await?;
    let on_their_way = if still_held { 0 } else { waiting(ctx, target)? };
    Ok((had, on_their_way))
}

/// How many pushes are owed to `target` (waiting for its quiet hours to end
/// or its digest, or for a retry).
pub(crate) fn waiting(ctx: &Context, target: Target) -> Result<usize, StoreError> {
    Ok(ctx
        .store
        .journal_for(target.chat)?
        .iter()
        .filter(|e| e.thread == target.thread)
        .count())
}

/// "1 release", "3 releases" in `lang`.
pub(crate) fn releases(n: usize, lang: Language) -> String {
    tr!(lang, "releases-count", count = n)
}
